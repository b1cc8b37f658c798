"""A Lightspeed X-Series (ex-Vend) API sandbox: Bearer tokens, the 5-minute request window with
``X-RateLimit-*`` headers and 429 + ``Retry-After`` (an HTTP date), customers, products, inventory per
outlet, sales with their statuses (``register_sales``), a control interface and the shared fault
injection. See ``docs/sandbox-lightspeed_xseries.md``."""

from m2pos.sandbox.lightspeed_xseries._cli import serve_xseries_main
from m2pos.sandbox.lightspeed_xseries._sandbox import DEMO_TOKEN, XSeriesSandbox, demo_pos_settings

__all__ = ["DEMO_TOKEN", "XSeriesSandbox", "demo_pos_settings", "serve_xseries_main"]
