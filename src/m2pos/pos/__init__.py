"""POS adapters, one package each, behind one port (``port.PointOfSale``).

Each package registers itself once, in ``registry.POS_KINDS``; ``open_pos(settings)`` opens the
adapter that ``[pos] kind`` names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from m2pos.pos.port import PointOfSale, PosDocument, PosError, PosRejected
from m2pos.settings import PosSettings

if TYPE_CHECKING:  # the engine imports this package
    from m2pos.engine.ratelimit import RateLimiter


def validate_pos_settings(settings: PosSettings, source: str = "settings") -> None:
    """Check the POS's own keys now (``SettingsError`` naming each bad key), without connecting.

    ``open_pos`` validates them too; this lets a command report them with the other settings."""
    from m2pos.pos.registry import pos_kind

    check = pos_kind(settings.kind).check
    if check is not None:
        check(settings, source)


def open_pos(settings: PosSettings, limiter: RateLimiter | None = None) -> PointOfSale:
    from m2pos.pos.registry import pos_kind

    return pos_kind(settings.kind).open(settings, limiter)


__all__ = [
    "PointOfSale",
    "PosDocument",
    "PosError",
    "PosRejected",
    "open_pos",
    "validate_pos_settings",
]
