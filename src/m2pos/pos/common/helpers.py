"""The helper products every POS adapter puts on documents: "No Product Found", "Shipping",
"Refund" (and, in the one-tax-line mode, a tax product).

They are non-inventory products the merchant keeps in the POS (product-behaviour §2.5, §6 item 13).
At start-up they are checked: a missing one is created; one that was archived or renamed, or whose
code was changed, is reported plainly — the message names the product and says what to do — because
documents that use it would otherwise fail one by one, or land on the wrong product.

The adapter supplies a ``HelperCatalog`` (its POS's calls); ``ensure_helpers`` holds the rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from m2pos.pos.port import PosError


@dataclass(frozen=True)
class HelperProduct:
    role: str  # "no_product_found" | "shipping" | "refund" | "tax"
    code: str
    description: str
    setting: str  # the settings key that names the code, for messages
    taxable: bool = False


@dataclass(frozen=True)
class HelperRecord:
    id: str
    code: str
    description: str
    archived: bool = False


class HelperCatalog(Protocol):
    async def find_codes(self, codes: Sequence[str]) -> Mapping[str, HelperRecord]:
        """Full records (the archived flag known) of the products with these codes."""
        ...

    async def find_descriptions(self, descriptions: Sequence[str]) -> Sequence[HelperRecord]: ...

    async def create(self, helper: HelperProduct) -> HelperRecord: ...


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


async def ensure_helpers(
    catalog: HelperCatalog, helpers: Sequence[HelperProduct], pos_name: str
) -> dict[str, HelperRecord]:
    """The helper records by role; missing ones are created. Raises :class:`PosError` (not
    retryable: a person must act) naming every helper that is archived, renamed or re-coded."""
    found = await catalog.find_codes([h.code for h in helpers])
    problems: list[str] = []
    missing: list[HelperProduct] = []
    out: dict[str, HelperRecord] = {}
    for helper in helpers:
        record = found.get(helper.code)
        if record is None:
            missing.append(helper)
        elif record.archived:
            problems.append(
                f'The helper product "{helper.description}" (code {helper.code}) is archived in {pos_name}. '
                f"Un-archive it (mark it Current); m2pos puts it on documents and cannot use it archived."
            )
        elif not _same(record.description, helper.description):
            problems.append(
                f'The helper product with code {helper.code} was renamed to "{record.description}" in '
                f'{pos_name}; m2pos expects "{helper.description}". Rename it back, or if {helper.code} '
                f"is now another product, set {helper.setting} to the code of the {helper.description} "
                "product."
            )
        else:
            out[helper.role] = record
    if missing:
        others = await catalog.find_descriptions([h.description for h in missing])
        for helper in missing:
            twin = next((r for r in others if _same(r.description, helper.description)), None)
            if twin is not None:
                problems.append(
                    f'The helper product "{helper.description}" has the code {twin.code} in {pos_name}, '
                    f"not {helper.code}. Change its code back to {helper.code}, or set "
                    f'{helper.setting} = "{twin.code}".'
                )
            else:
                out[helper.role] = await catalog.create(helper)
    if problems:
        raise PosError(" ".join(problems), retryable=False)
    return out


HELPER_NAMES = {
    "no_product_found": "No Product Found",
    "shipping": "Shipping",
    "refund": "Refund",
    "tax": "Magento Tax",
}


def named_helpers(
    options: object, section: str, keys: Mapping[str, str], *, taxable: Sequence[str] = ()
) -> list[HelperProduct]:
    """The helper products by role, each with the code ``options.<key>`` gives it (``keys``: role →
    key), named as merchants know them; ``section`` is where the keys sit (``pos.<kind>``)."""
    return [
        HelperProduct(
            role, getattr(options, key), HELPER_NAMES[role], f"{section}.{key}", taxable=role in taxable
        )
        for role, key in keys.items()
    ]
