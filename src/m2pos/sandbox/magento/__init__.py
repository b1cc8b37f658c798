"""A Magento 2.4.8 REST API sandbox: orders, invoices, credit memos, products and MSI stock, with
OAuth 1.0a/Bearer authentication, Magento's search criteria and error bodies, a control interface
and fault injection. See ``docs/sandbox-magento.md`` for what is faithful and what is inferred."""

from m2pos.sandbox._faults import FaultSettings
from m2pos.sandbox.magento._cli import serve_main
from m2pos.sandbox.magento._credentials import DEMO_CREDENTIALS, SandboxCredentials
from m2pos.sandbox.magento._sandbox import MagentoSandbox

__all__ = ["DEMO_CREDENTIALS", "FaultSettings", "MagentoSandbox", "SandboxCredentials", "serve_main"]
