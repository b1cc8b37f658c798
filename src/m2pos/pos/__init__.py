"""POS adapters, one package each, behind one port (``port.PointOfSale``).

``open_pos(settings)`` is the one place that maps ``[pos] kind`` to an adapter.
"""

from __future__ import annotations

from collections.abc import Callable

from m2pos.pos.port import PointOfSale, PosDocument, PosError, PosRejected
from m2pos.settings import PosSettings

PosFactory = Callable[[PosSettings], PointOfSale]


def _memory(settings: PosSettings) -> PointOfSale:
    from m2pos.pos.memory import MemoryPos

    return MemoryPos.from_settings(settings)


def _lightspeed_onsite(settings: PosSettings) -> PointOfSale:
    from m2pos.pos.lightspeed_onsite import LightspeedOnSite

    return LightspeedOnSite.from_settings(settings)


def _lightspeed_retail(settings: PosSettings) -> PointOfSale:
    from m2pos.pos.lightspeed_retail import LightspeedRetail

    return LightspeedRetail.from_settings(settings)


def _heartland(settings: PosSettings) -> PointOfSale:
    from m2pos.pos.heartland import Heartland

    return Heartland.from_settings(settings)


def _lightspeed_xseries(settings: PosSettings) -> PointOfSale:
    from m2pos.pos.lightspeed_xseries import LightspeedXSeries

    return LightspeedXSeries.from_settings(settings)


ADAPTERS: dict[str, PosFactory] = {"memory": _memory, "lightspeed_onsite": _lightspeed_onsite}
ADAPTERS["lightspeed_xseries"] = _lightspeed_xseries
ADAPTERS["heartland"] = _heartland
ADAPTERS["lightspeed_retail"] = _lightspeed_retail


def validate_pos_settings(settings: PosSettings, source: str = "settings") -> None:
    """Check the POS's own keys now (``SettingsError`` naming each bad key), without connecting.

    ``open_pos`` validates them too; this lets a command report them with the other settings."""
    if settings.kind == "lightspeed_onsite":
        from m2pos.pos.lightspeed_onsite import onsite_settings

        onsite_settings(settings, source)
    if settings.kind == "lightspeed_xseries":
        from m2pos.pos.lightspeed_xseries import xseries_settings

        xseries_settings(settings, source)
    elif settings.kind == "heartland":
        from m2pos.pos.heartland import heartland_settings

        heartland_settings(settings, source)
    if settings.kind == "lightspeed_retail":
        from m2pos.pos.lightspeed_retail import retail_settings

        retail_settings(settings, source)


def open_pos(settings: PosSettings) -> PointOfSale:
    factory = ADAPTERS.get(settings.kind)
    if factory is None:
        known = ", ".join(sorted(ADAPTERS))
        raise PosError(
            f'pos.kind = "{settings.kind}" is not available in this version of m2pos (available: {known})',
            retryable=False,
        )
    return factory(settings)


__all__ = [
    "ADAPTERS",
    "PointOfSale",
    "PosDocument",
    "PosError",
    "PosRejected",
    "open_pos",
    "validate_pos_settings",
]
