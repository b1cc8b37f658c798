"""What the POS adapter tests share: one HTTP server per session in front of whichever sandbox the
test put behind it, a Magento sandbox, and Magento orders and credit memos as the adapters get them.

``tests/conftest.py`` makes the fixtures available everywhere; a test module that needs another
Magento sandbox defines its own ``magento``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from m2pos.magento.models import CreditMemo, Order
from m2pos.sandbox._serve import serve_in_thread
from m2pos.sandbox.magento import MagentoSandbox
from m2pos.sandbox.magento._store import CREDITMEMOS


class Switch:
    """Forwards to whichever sandbox the current test put in ``target``."""

    def __init__(self) -> None:
        self.target: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.target is not None, "no sandbox behind the HTTP server"
        await self.target(scope, receive, send)


@pytest.fixture(scope="session")
def http_server() -> Iterator[tuple[Switch, str]]:
    switch = Switch()
    with serve_in_thread(switch) as base:
        yield switch, base


@pytest.fixture(scope="session")
def magento() -> Iterator[MagentoSandbox]:
    sandbox = MagentoSandbox(orders=0)
    yield sandbox
    sandbox.close()


def place_order(magento: MagentoSandbox, kind: str = "simple", **kwargs: Any) -> Order:
    """A paid order of a registered customer (unless ``kwargs`` say otherwise), as Magento shows it."""
    kwargs.setdefault("payment", "captured")
    kwargs.setdefault("guest", False)
    kwargs.setdefault("customer_index", 3)
    return Order.model_validate(magento.control.place_order(kind, **kwargs))


def refund(magento: MagentoSandbox, order: Order, **kwargs: Any) -> tuple[CreditMemo, Order]:
    """A credit memo for ``order`` and the order as Magento shows it afterwards."""
    assert order.entity_id is not None
    memo_id = magento.control.refund(order.entity_id, **kwargs)
    memo = CreditMemo.model_validate(magento.backend.get_document(CREDITMEMOS, memo_id))
    return memo, Order.model_validate(magento.control.get_order(order.entity_id))
