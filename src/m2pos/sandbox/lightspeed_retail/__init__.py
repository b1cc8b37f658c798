"""A Lightspeed Retail (R-Series) API sandbox: OAuth 2 with rotating refresh tokens, the leaky-bucket
rate limit with its headers and 429s, R-Series' JSON shapes (strings everywhere, one record an
object and several an array, its error body), items with stock per shop, customers, payment types,
sales (completed ones move stock) and quotes, plus the shared fault injection. See
``docs/sandbox-lightspeed_retail.md`` for what is verified, inferred or guessed."""

from m2pos.sandbox._faults import FaultSettings
from m2pos.sandbox.lightspeed_retail._cli import serve_retail_main
from m2pos.sandbox.lightspeed_retail._sandbox import (
    MISSING_SKUS,
    RetailControl,
    RetailSandbox,
    demo_pos_settings,
)
from m2pos.sandbox.lightspeed_retail._tokens import OAuthApp

__all__ = [
    "MISSING_SKUS",
    "FaultSettings",
    "OAuthApp",
    "RetailControl",
    "RetailSandbox",
    "demo_pos_settings",
    "serve_retail_main",
]
