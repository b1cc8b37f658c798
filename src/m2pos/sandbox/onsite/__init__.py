"""A Lightspeed OnSite Server API sandbox: XML over HTTPS, the three authentication headers, server
sessions with a seat limit, customers, products, product inventory (on hand, reserved, available),
orders and invoices with line items, deposits, LOCK/UNLOCK, a control interface and fault injection.
See ``docs/sandbox-onsite.md`` for what is faithful and what is inferred."""

from m2pos.sandbox._faults import FaultSettings
from m2pos.sandbox.onsite._cli import serve_onsite_main
from m2pos.sandbox.onsite._credentials import DEMO_APP_ID, DEMO_ONSITE_CREDENTIALS, OnSiteCredentials
from m2pos.sandbox.onsite._sandbox import OnSiteSandbox, demo_pos_settings
from m2pos.sandbox.onsite._sessions import COOKIE as SESSION_COOKIE

__all__ = [
    "DEMO_APP_ID",
    "DEMO_ONSITE_CREDENTIALS",
    "SESSION_COOKIE",
    "FaultSettings",
    "OnSiteCredentials",
    "OnSiteSandbox",
    "demo_pos_settings",
    "serve_onsite_main",
]
