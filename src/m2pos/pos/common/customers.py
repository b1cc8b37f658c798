"""Which POS customer an order belongs to: matched by e-mail, created when missing, addresses kept
up to date, a default customer for orders without an e-mail.

The rules (product-behaviour §6 item 16, pos-apis §6 item 3), the same for every POS:

* e-mail first, compared without regard to case; POSes do not keep e-mails unique, so among the
  records with that e-mail the ones merged into another are skipped, then the most recently modified
  wins (ties: the lowest id) — a deterministic choice;
* no match: the customer is created from the order (name, e-mail, phone, billing and shipping
  address);
* a match whose addresses differ from the order's is updated — only then, so a returning customer
  costs no write;
* an order without an e-mail goes to the configured default customer (or none: a walk-in);
* customers are never merged or deleted.

The adapter supplies a ``CustomerDirectory`` (its POS's calls); ``CustomerMatcher`` holds the rules,
the cache and a lock per e-mail so that two orders of a new customer at once create one record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from m2pos.magento.models import Address, Order
from m2pos.pos.common.cache import TtlCache


@dataclass(frozen=True)
class PostalAddress:
    address1: str = ""
    address2: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""

    @classmethod
    def from_magento(cls, address: Address | None) -> PostalAddress | None:
        if address is None:
            return None
        street = [s.strip() for s in address.street if s and s.strip()]
        found = cls(
            address1=street[0] if street else "",
            address2=", ".join(street[1:]),
            city=(address.city or "").strip(),
            state=(address.region_code or address.region or "").strip(),
            zip=(address.postcode or "").strip(),
            country=(address.country_id or "").strip(),
        )
        return None if found.is_empty else found

    @property
    def is_empty(self) -> bool:
        return not any((self.address1, self.address2, self.city, self.state, self.zip, self.country))

    def covers(self, other: PostalAddress) -> bool:
        """Whether this address already says everything ``other`` says (blank fields of ``other``
        say nothing)."""
        pairs = zip(
            (self.address1, self.address2, self.city, self.state, self.zip, self.country),
            (other.address1, other.address2, other.city, other.state, other.zip, other.country),
            strict=True,
        )
        return all(not theirs or _same(mine, theirs) for mine, theirs in pairs)


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def normalise_email(email: str | None) -> str | None:
    text = (email or "").strip()
    return text.casefold() if "@" in text else None


@dataclass(frozen=True)
class CustomerDetails:
    """The customer as the order describes it."""

    email: str
    first: str
    last: str
    company: str = ""
    phone: str = ""
    billing: PostalAddress | None = None
    shipping: PostalAddress | None = None

    @classmethod
    def from_order(cls, order: Order) -> CustomerDetails | None:
        """None when the order has no usable e-mail."""
        email = (order.customer_email or "").strip()
        if normalise_email(email) is None:
            return None
        billing = order.billing_address
        first = (order.customer_firstname or (billing.firstname if billing else None) or "").strip()
        last = (order.customer_lastname or (billing.lastname if billing else None) or "").strip()
        company = ((billing.company if billing else None) or "").strip()
        if not (first or last or company):
            first = email.split("@", 1)[0]
        phone = ((billing.telephone if billing else None) or "").strip()
        return cls(
            email=email,
            first=first,
            last=last,
            company=company,
            phone=phone,
            billing=PostalAddress.from_magento(billing),
            shipping=PostalAddress.from_magento(order.shipping_address),
        )

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first, self.last) if p) or self.company


def order_contact_name(order: Order) -> str:
    """The name to show on a document without a customer record (walk-in)."""
    for address in (order.billing_address, order.shipping_address):
        if address is not None and address.full_name:
            return address.full_name
    name = " ".join(p for p in (order.customer_firstname, order.customer_lastname) if p)
    return name or f"Web order {order.increment_id or order.entity_id}"


@dataclass(frozen=True)
class PosCustomer:
    """A customer record as the POS shows it. ``complete`` is False for a listing entry, which may
    not carry the addresses."""

    id: str
    email: str
    name: str = ""
    merged: bool = False
    modified: str = ""  # the POS's timestamp text; compared as text (ISO-like)
    billing: PostalAddress | None = None
    shipping: PostalAddress | None = None
    complete: bool = False


class CustomerDirectory(Protocol):
    async def find_by_email(self, email: str) -> Sequence[PosCustomer]:
        """Every record with this e-mail (any case), merged ones included."""
        ...

    async def get(self, customer_id: str) -> PosCustomer:
        """The full record."""
        ...

    async def create(self, details: CustomerDetails) -> PosCustomer: ...

    async def update_addresses(self, customer: PosCustomer, details: CustomerDetails) -> PosCustomer:
        """Write the order's addresses onto ``customer``; return the record as it is now."""
        ...


Action = Literal["matched", "created", "updated", "default"]


@dataclass(frozen=True)
class CustomerMatch:
    customer_id: str | None  # None: no customer record (a walk-in)
    name: str
    action: Action


def choose(candidates: Sequence[PosCustomer]) -> PosCustomer | None:
    """Not merged, most recently modified, then the lowest id."""
    live = [c for c in candidates if not c.merged]
    if not live:
        return None

    def order_key(c: PosCustomer) -> tuple[str, int, str]:
        numeric = int(c.id) if c.id.isdigit() else 0
        return (c.modified, -numeric, c.id)

    return max(live, key=order_key)


def needs_update(record: PosCustomer, details: CustomerDetails) -> bool:
    for theirs, mine in ((details.billing, record.billing), (details.shipping, record.shipping)):
        if theirs is not None and (mine is None or not mine.covers(theirs)):
            return True
    return False


class CustomerMatcher:
    def __init__(
        self,
        directory: CustomerDirectory,
        *,
        default_customer_id: str | None = None,
        cache: TtlCache[str, PosCustomer | None] | None = None,
    ) -> None:
        self.directory = directory
        self.default_customer_id = default_customer_id
        self.cache: TtlCache[str, PosCustomer | None] = cache if cache is not None else TtlCache()
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # e-mail → (lock, orders using it)

    async def match(self, order: Order) -> CustomerMatch:
        details = CustomerDetails.from_order(order)
        if details is None:
            return CustomerMatch(self.default_customer_id, order_contact_name(order), "default")
        key = normalise_email(details.email)
        assert key is not None
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                return await self._match(key, details)
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def _match(self, key: str, details: CustomerDetails) -> CustomerMatch:
        hit, record = self.cache.lookup(key)
        if not hit or record is None:
            record = choose(await self.directory.find_by_email(details.email))
        if record is None:
            created = await self.directory.create(details)
            self.cache.put(key, replace(created, complete=True))
            return CustomerMatch(created.id, created.name or details.name, "created")
        if not record.complete:
            record = await self.directory.get(record.id)
        action: Action = "matched"
        if needs_update(record, details):
            record = await self.directory.update_addresses(record, details)
            action = "updated"
        self.cache.put(key, replace(record, complete=True))
        return CustomerMatch(record.id, record.name or details.name, action)
