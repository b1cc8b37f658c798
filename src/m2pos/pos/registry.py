"""The one place a POS is registered.

Each POS package describes itself in a :class:`~m2pos.pos.kind.PosKind` (its ``KIND``): how to
open the adapter and check its settings, the console's two sections for it, its sandbox command and
how the demo runs it. ``POS_KINDS`` lists them; ``[pos] kind``, ``m2pos sandbox …``,
``m2pos demo --pos`` and the console all read from here. ``docs/pos/adding-a-pos.md`` says how to add one.
"""

from __future__ import annotations

from m2pos.pos.heartland import KIND as HEARTLAND
from m2pos.pos.kind import DemoPos, PosKind, SandboxCommand
from m2pos.pos.lightspeed_onsite import KIND as ONSITE
from m2pos.pos.lightspeed_retail import KIND as RETAIL
from m2pos.pos.lightspeed_xseries import KIND as XSERIES
from m2pos.pos.memory import KIND as MEMORY
from m2pos.pos.port import PosError

POS_KINDS: dict[str, PosKind] = {k.kind: k for k in (ONSITE, RETAIL, XSERIES, HEARTLAND, MEMORY)}


def pos_kind(kind: str) -> PosKind:
    found = POS_KINDS.get(kind)
    if found is None:
        known = ", ".join(POS_KINDS)
        raise PosError(
            f'pos.kind = "{kind}" is not available in this version of m2pos (available: {known})',
            retryable=False,
        )
    return found


__all__ = ["POS_KINDS", "DemoPos", "PosKind", "SandboxCommand", "pos_kind"]
