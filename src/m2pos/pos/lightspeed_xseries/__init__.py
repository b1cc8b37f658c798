"""The Lightspeed X-Series adapter (``[pos] kind = "lightspeed_xseries"``): Magento orders as sales
awaiting dispatch or pickup, cancellations as voids, credit memos as return sales, the outlet's
inventory level for the stock sync, requests paced to X-Series' 5-minute window.
See ``docs/pos/lightspeed_xseries.md``."""

from m2pos.pos.lightspeed_xseries._adapter import LightspeedXSeries
from m2pos.pos.lightspeed_xseries._kind import KIND
from m2pos.pos.lightspeed_xseries._settings import XSeriesOptions, XSeriesSettings, xseries_settings

__all__ = ["KIND", "LightspeedXSeries", "XSeriesOptions", "XSeriesSettings", "xseries_settings"]
