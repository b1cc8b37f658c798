"""The Lightspeed Retail (R-Series) adapter (``[pos] kind = "lightspeed_retail"``): Magento orders as
R-Series Sales or Quotes, cancellations, credit memos as refund sales, ``qoh`` for the stock sync.
See ``docs/pos/lightspeed_retail.md``."""

from m2pos.pos.lightspeed_retail._adapter import LightspeedRetail
from m2pos.pos.lightspeed_retail._kind import KIND
from m2pos.pos.lightspeed_retail._settings import RetailOptions, RetailSettings, retail_settings

__all__ = ["KIND", "LightspeedRetail", "RetailOptions", "RetailSettings", "retail_settings"]
