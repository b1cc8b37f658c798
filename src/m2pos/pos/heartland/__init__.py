"""The Heartland Retail adapter (``[pos] kind = "heartland"``): Magento orders as Heartland sales
orders (customer, lines, shipping charge, payments; optionally distributed and invoiced at once),
cancellations, credit memos as order reductions or return tickets, and on hand minus committed for
the stock sync. See ``docs/pos/heartland.md``."""

from m2pos.pos.heartland._adapter import Heartland
from m2pos.pos.heartland._kind import KIND
from m2pos.pos.heartland._settings import HeartlandOptions, HeartlandSettings, heartland_settings

__all__ = ["KIND", "Heartland", "HeartlandOptions", "HeartlandSettings", "heartland_settings"]
