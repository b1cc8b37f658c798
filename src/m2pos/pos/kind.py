"""What a POS package tells m2pos about itself: its :class:`PosKind` (the package's ``KIND``).

``m2pos.pos.registry`` lists them; ``docs/pos/adding-a-pos.md`` says how to write one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from m2pos.pos.port import PointOfSale
from m2pos.settings import PosSettings
from m2pos.settings_fields import Section

if TYPE_CHECKING:  # the engine imports the POS packages
    from m2pos.engine.ratelimit import RateLimiter


class PosOpener(Protocol):
    """The adapter's ``from_settings``: ``limiter`` is its request-rate budget (None: its own,
    from ``pos.requests_per_second``; distributed mode hands in one shared by every worker)."""

    def __call__(self, settings: PosSettings, limiter: RateLimiter | None = None) -> PointOfSale: ...


@dataclass(frozen=True)
class DemoPos:
    """A POS sandbox the demo started: the ``[pos]`` table that reaches it, and a line about it."""

    settings: dict[str, object]
    summary: str


@dataclass(frozen=True)
class SandboxCommand:
    """``m2pos sandbox <name>``: ``run`` is a Typer command (its parameters are the options)."""

    name: str
    run: Callable[..., None]


@dataclass(frozen=True)
class PosKind:
    kind: str  # the value of [pos] kind
    title: str  # the POS's name, as merchants know it
    open: PosOpener
    # Validates the POS's own [pos] keys (raising SettingsError naming each bad key), without I/O.
    check: Callable[[PosSettings, str], object] | None = None
    order_section: Section | None = None  # the console's "how orders land" section
    connection_section: Section | None = None  # the console's connection section
    sandbox: SandboxCommand | None = None
    # Starts the POS's sandbox on the demo's exit stack (files under the given folder).
    demo: Callable[[contextlib.ExitStack, Path], DemoPos] | None = None
