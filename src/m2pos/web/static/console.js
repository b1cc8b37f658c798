// m2pos console: the little JavaScript the pages need. Everything works without it too.
"use strict";

// Fields enabled only while another field has a value (Reserve Order Inventory and Create Order
// Deposits: only with Download Orders As = Order).
function followDependencies() {
  document.querySelectorAll("[data-enabled-when]").forEach((field) => {
    const [name, wanted] = field.dataset.enabledWhen.split("=");
    const controls = document.querySelectorAll(`[name="${name}"]`);
    const update = () => {
      const chosen = Array.from(controls).find((c) => c.checked);
      const enabled = chosen !== undefined && chosen.value === wanted;
      field.querySelectorAll('input[type="checkbox"]').forEach((box) => {
        box.disabled = !enabled;
        if (!enabled) box.checked = false;
      });
      field.classList.toggle("is-disabled", !enabled);
    };
    controls.forEach((c) => c.addEventListener("change", update));
    update();
  });
}

// The status page refreshes its panel by itself.
function refreshPanels() {
  document.querySelectorAll("[data-refresh]").forEach((panel) => {
    const every = Number(panel.dataset.every || "5") * 1000;
    const load = async () => {
      try {
        const response = await fetch(panel.dataset.refresh, { credentials: "same-origin" });
        if (response.redirected || !response.ok) return;  // logged out: the next navigation shows the login
        panel.innerHTML = await response.text();
      } catch (error) {
        // The console is unreachable for a moment: keep what is shown.
      }
    };
    setInterval(load, every);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  followDependencies();
  refreshPanels();
});
