"""The paginator holds one page at a time, so streaming 100,000 orders takes the memory of one page."""

from __future__ import annotations

import gc
import weakref
from typing import Any

from m2pos.magento import Paginator

PAGE, TOTAL = 10, 30


class Body(dict[str, Any]):
    """A search result that can be weakly referenced."""


class Doc:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.entity_id = raw["entity_id"]


async def test_only_one_page_is_alive_at_a_time() -> None:
    bodies: list[weakref.ref[Body]] = []
    docs: list[weakref.ref[Doc]] = []
    docs_alive_while_fetching: list[int] = []
    bodies_alive_while_consuming: list[int] = []

    async def fetch(params: list[tuple[str, str]]) -> Body:
        gc.collect()
        docs_alive_while_fetching.append(sum(ref() is not None for ref in docs))
        page = int(dict(params)["searchCriteria[currentPage]"])
        body = Body(
            items=[{"entity_id": (page - 1) * PAGE + i} for i in range(1, PAGE + 1)], total_count=TOTAL
        )
        bodies.append(weakref.ref(body))
        return body

    def parse(raw: dict[str, Any]) -> Doc:
        doc = Doc(raw)
        docs.append(weakref.ref(doc))
        return doc

    seen = []
    async for doc in Paginator(fetch, parse, page_size=PAGE):
        seen.append(doc.entity_id)
        if doc.entity_id % PAGE == 1:  # the first order of a page
            gc.collect()
            bodies_alive_while_consuming.append(sum(ref() is not None for ref in bodies))
    assert seen == list(range(1, TOTAL + 1))
    # While page n+1 is fetched, only the order the caller still holds (its loop variable) is alive.
    assert docs_alive_while_fetching == [0, 1, 1]
    # While the caller works through a page, the raw JSON of that page is already gone.
    assert bodies_alive_while_consuming == [0, 0, 0]
