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


ADAPTERS: dict[str, PosFactory] = {"memory": _memory}


def open_pos(settings: PosSettings) -> PointOfSale:
    factory = ADAPTERS.get(settings.kind)
    if factory is None:
        known = ", ".join(sorted(ADAPTERS))
        raise PosError(
            f'pos.kind = "{settings.kind}" is not available in this version of m2pos (available: {known})',
            retryable=False,
        )
    return factory(settings)


__all__ = ["ADAPTERS", "PointOfSale", "PosDocument", "PosError", "PosRejected", "open_pos"]
