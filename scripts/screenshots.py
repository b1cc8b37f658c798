"""Screenshots of every console page for docs/screenshots/, taken from a running `m2pos demo`.

    .venv/bin/python scripts/screenshots.py        # or: make screenshots

The demo runs with the Lightspeed OnSite sandbox (so the OnSite section shows) and live shop
traffic; the console is set up through its first-run page, then each page is captured in Debian's
Chromium (Playwright), at desktop size, and the status and settings pages at phone size too.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PASSWORD = "screenshot password"


def start_demo() -> tuple[subprocess.Popen[str], str]:
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "m2pos.cli",
            "demo",
            "--port",
            "0",
            "--web-port",
            "0",
            "--orders",
            "40",
            "--duration",
            "240",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert demo.stdout is not None
    for line in demo.stdout:
        found = re.search(r"First run: open (http://\S+/setup\?code=\S+) ", line)
        if found:
            return demo, found.group(1)
    raise RuntimeError("the demo did not print the console's address")


def shoot(page: Page, name: str, full_page: bool = True) -> None:
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full_page)
    print(f"docs/screenshots/{name}.png")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    demo, first_run = start_demo()
    base = first_run.split("/setup")[0]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(first_run)
            page.get_by_label("User name").fill("owner")
            shoot(page, "first-run", full_page=False)
            page.get_by_label("Password (at least 10 characters)").fill(PASSWORD)
            page.get_by_label("Password again").fill(PASSWORD)
            page.get_by_role("button", name="Create and log in").click()
            time.sleep(12)  # a few cycles of shop traffic
            page.goto(f"{base}/status")
            shoot(page, "status")
            page.goto(f"{base}/settings")
            page.get_by_text("Order", exact=True).click()
            shoot(page, "order-settings")
            page.goto(f"{base}/connections")
            page.get_by_role("button", name="Test connection to Magento 2").click()
            shoot(page, "connections")
            page.goto(f"{base}/orders")
            shoot(page, "orders")
            page.get_by_role("link", name=re.compile(r"^\d+$")).first.click()
            shoot(page, "order")
            page.goto(f"{base}/credit-memos")
            shoot(page, "credit-memos")
            page.goto(f"{base}/notifications")
            shoot(page, "notifications")
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.context.add_cookies(page.context.cookies())
            phone.goto(f"{base}/status")
            shoot(phone, "status-phone")
            browser.close()
    finally:
        demo.terminate()
        demo.wait(timeout=60)


if __name__ == "__main__":
    main()
