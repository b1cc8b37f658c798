"""``m2pos explain``: every rule checked for an order, with the values seen, and its timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from m2pos.engine.bootstrap import open_store
from m2pos.engine.context import StoreContext, order_record, record_rules
from m2pos.ledger import EventRow, Ledger
from m2pos.magento import MagentoClient, SearchCriteria
from m2pos.rules import Verdict, decide_order
from m2pos.settings import Settings


@dataclass(frozen=True)
class Explanation:
    entity_id: int
    store_id: int | None
    verdict: Verdict
    status: str | None
    last_error: str | None
    timeline: list[EventRow]


async def explain_in(ctx: StoreContext, number: str) -> list[Explanation]:
    """Judge the order(s) numbered ``number`` now; nothing is written to Magento or the POS.

    An increment_id can repeat across store views, so there may be several.
    """
    return await explain_with(ctx.magento, ctx.ledger, ctx.settings, number)


async def explain_with(
    magento: MagentoClient, ledger: Ledger, settings: Settings, number: str
) -> list[Explanation]:
    """``explain_in`` without a POS: what the web console needs."""
    rules = record_rules(ledger, settings, "settings file", datetime.now(UTC))
    history = ledger.settings_history()
    found = await magento.orders(SearchCriteria().where("increment_id", "eq", number)).to_list()
    explanations = []
    for order in found:
        assert order.entity_id is not None
        row = ledger.order(order.entity_id)
        verdict = decide_order(order, current=rules, history=history, record=order_record(row))
        explanations.append(
            Explanation(
                entity_id=order.entity_id,
                store_id=order.store_id,
                verdict=verdict,
                status=row.status if row else None,
                last_error=row.last_error if row else None,
                timeline=ledger.events("order", order.entity_id),
            )
        )
    return explanations


async def explain_order(settings: Settings, number: str) -> list[Explanation]:
    async with open_store(settings) as ctx:
        return await explain_in(ctx, number)
