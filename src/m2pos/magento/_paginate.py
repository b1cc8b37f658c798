"""Paging through Magento search results safely.

Magento answers a ``currentPage`` past the end with the *last page again* (domain notes §3), so
the paginator never waits for an empty page: it stops when ``page * pageSize >= total_count``.
It always sends ``pageSize``, always sorts by a unique key so pages do not overlap, and drops
items it has already yielded (rows can shift between requests). Pages are streamed: memory stays
bounded by the page size, not by the number of items.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

from m2pos.magento._errors import MagentoInvalidResponseError
from m2pos.magento._search import KeyStyle, SearchCriteria, SortOrder

T = TypeVar("T")
Fetch = Callable[[list[tuple[str, str]]], Awaitable[Any]]

_DEDUPE_WINDOW_PAGES = 3


def _split_top_level(text: str) -> list[str]:
    """Split a ``fields`` list on commas that are not inside brackets."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def _entry_name(entry: str) -> str:
    return entry.split("[", 1)[0].strip()


def ensure_fields(fields: str, key_fields: Sequence[str]) -> str:
    """Add what paging needs to a ``fields=`` projection: ``total_count`` and the key fields.

    Magento drops ``total_count`` from a projection that does not name it, and the paginator
    cannot stop safely without it.
    """
    entries = _split_top_level(fields)
    result: list[str] = []
    for entry in entries:
        if _entry_name(entry) == "items" and "[" in entry:
            inner = entry[entry.index("[") + 1 : entry.rindex("]")]
            subs = _split_top_level(inner)
            names = {_entry_name(s) for s in subs}
            subs.extend(k for k in key_fields if k not in names)
            entry = f"items[{','.join(subs)}]"
        result.append(entry)
    if "total_count" not in {_entry_name(e) for e in entries}:
        result.append("total_count")
    return ",".join(result)


class Paginator(Generic[T]):
    """An async iterator over every item matching ``criteria``; ``pages()`` yields page by page.

    ``key_fields`` is the unique key used to sort and de-duplicate: ``entity_id`` for sales
    documents, ``sku`` + ``source_code`` for source items. ``sort_fields`` names the same key for
    sorting when Magento spells it differently there (products: ``id`` in responses, ``entity_id``
    to sort). The caller's sort orders come first and the key is appended as a tie-breaker; with
    no caller sort, the order is by the key ascending.
    """

    def __init__(
        self,
        fetch: Fetch,
        parse: Callable[[dict[str, Any]], T],
        *,
        criteria: SearchCriteria | None = None,
        key_fields: Sequence[str] = ("entity_id",),
        sort_fields: Sequence[str] | None = None,
        page_size: int = 100,
        fields: str | None = None,
        key_style: KeyStyle = "snake",
    ) -> None:
        criteria = criteria or SearchCriteria()
        if criteria.page_size is None:
            criteria = criteria.with_page_size(page_size)  # validates ≤ 300
        sorted_fields = {s.field for s in criteria.sort_orders}
        tie_breakers = key_fields if sort_fields is None else sort_fields
        extra_sorts = tuple(SortOrder(k, "ASC") for k in tie_breakers if k not in sorted_fields)
        self._criteria = criteria.with_sort_orders(*criteria.sort_orders, *extra_sorts)
        self._criteria.validate()
        self._fetch = fetch
        self._parse = parse
        self._key_fields = tuple(key_fields)
        self._fields = ensure_fields(fields, key_fields) if fields else None
        self._key_style: KeyStyle = key_style
        self.total_count: int | None = None  # as last reported by Magento
        self.pages_fetched = 0
        self.duplicates_skipped = 0

    @property
    def page_size(self) -> int:
        assert self._criteria.page_size is not None
        return self._criteria.page_size

    def params(self, page: int) -> list[tuple[str, str]]:
        params = self._criteria.with_current_page(page).to_params(self._key_style)
        if self._fields:
            params.append(("fields", self._fields))
        return params

    def _key(self, raw: Any) -> Hashable | None:
        if not isinstance(raw, dict):
            return None  # not a document at all: ``parse`` refuses it (or reports it, when lenient)
        key = tuple(raw.get(f) for f in self._key_fields)
        if any(k is None for k in key):
            return None
        try:
            hash(key)
        except TypeError:  # a malformed key (a list where an id belongs) cannot de-duplicate
            return None
        return key

    async def pages(self) -> AsyncIterator[list[T]]:
        page = self._criteria.current_page or 1
        # Keys of the last few pages: enough to catch a repeated last page or rows shifting
        # across a page boundary, while memory stays bounded by the page size.
        recent: deque[set[Hashable]] = deque(maxlen=_DEDUPE_WINDOW_PAGES)
        while True:
            body = await self._fetch(self.params(page))
            if not isinstance(body, dict) or not isinstance(body.get("total_count"), int):
                raise MagentoInvalidResponseError(
                    "Magento's search result has no total_count, so paging cannot stop safely"
                )
            total = body["total_count"]
            self.total_count = total
            self.pages_fetched += 1
            seen_now: set[Hashable] = set()
            out: list[T] = []
            for raw in body.get("items") or ():
                key = self._key(raw)
                if key is not None:
                    if key in seen_now or any(key in keys for keys in recent):
                        self.duplicates_skipped += 1
                        continue
                    seen_now.add(key)
                out.append(self._parse(raw))
            recent.append(seen_now)
            # Hold one page at a time: the raw page is dropped before the caller gets the parsed
            # one, and the parsed one before the next request.
            del body
            if out:
                yield out
            del out
            if page * self.page_size >= total:
                return
            page += 1

    async def _items(self) -> AsyncIterator[T]:
        async for batch in self.pages():
            for item in batch:
                yield item
            del batch  # not kept alive while the next page is fetched

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    async def to_list(self) -> list[T]:
        """Everything at once; for small result sets (an order's invoices), not for order lists."""
        return [item async for item in self]
