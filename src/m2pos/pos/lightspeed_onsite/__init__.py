"""The Lightspeed OnSite adapter (``[pos] kind = "lightspeed_onsite"``): Magento orders as OnSite
Invoices or Orders (reserving stock, with deposits), cancellations, credit memos as returns, and
on-hand minus reserved for the stock sync. See ``docs/pos/lightspeed_onsite.md``."""

from m2pos.pos.lightspeed_onsite._adapter import LightspeedOnSite
from m2pos.pos.lightspeed_onsite._kind import KIND
from m2pos.pos.lightspeed_onsite._settings import OnSiteOptions, OnSiteSettings, onsite_settings

__all__ = ["KIND", "LightspeedOnSite", "OnSiteOptions", "OnSiteSettings", "onsite_settings"]
