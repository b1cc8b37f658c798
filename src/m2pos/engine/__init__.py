"""The sync engine: rules applied to what Magento says, carried out through the POS port, exactly once.

It does not know which POS it talks to: only ``m2pos.pos.PointOfSale``.
"""

from m2pos.engine.context import StoreContext, rule_settings, system_clock
from m2pos.engine.cycle import CycleReport, SyncEngine
from m2pos.engine.items import ItemResult, Outcome, handle_credit_memo, handle_order

__all__ = [
    "CycleReport",
    "ItemResult",
    "Outcome",
    "StoreContext",
    "SyncEngine",
    "handle_credit_memo",
    "handle_order",
    "rule_settings",
    "system_clock",
]
