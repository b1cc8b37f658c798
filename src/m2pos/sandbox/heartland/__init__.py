"""A Heartland Retail API sandbox: JSON over HTTP, Bearer tokens, a request limit, Heartland's error
bodies, customers (validated), items, inventory values (on hand, committed, available), sales orders
with lines, distributions, a shipping charge, payments and invoices, tickets for returns, a control
interface and fault injection. See ``docs/sandbox-heartland.md``."""

from m2pos.sandbox._faults import FaultSettings
from m2pos.sandbox.heartland._cli import serve_heartland_main
from m2pos.sandbox.heartland._sandbox import (
    DEMO_TOKEN,
    ONLINE_LOCATION_ID,
    HeartlandSandbox,
    demo_pos_settings,
)

__all__ = [
    "DEMO_TOKEN",
    "ONLINE_LOCATION_ID",
    "FaultSettings",
    "HeartlandSandbox",
    "demo_pos_settings",
    "serve_heartland_main",
]
