"""Fault injection and request counters for the Magento routes.

Each fault kind can fire for the *next N* matching requests (deterministic) or with a probability
drawn from an RNG seeded by ``seed`` (reproducible). ``route`` narrows the faults (not the latency)
to requests whose ``"METHOD /V1/template"`` key matches an ``fnmatch`` pattern, e.g.
``"POST /V1/order/*/invoice"``.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

FaultKind = Literal["rate_limit", "timeout", "error", "drop_after_commit"]


@dataclass
class FaultSettings:
    latency_ms: int = 0  # added to every Magento route (an async sleep: the server stays concurrent)
    error_rate: float = 0.0  # probability of a 500 with Magento's masked "Internal Error" body
    error_next: int = 0
    rate_limit_rate: float = 0.0  # probability of a 429 with Retry-After
    rate_limit_next: int = 0
    retry_after_seconds: int = 1
    timeout_rate: float = 0.0  # hang before processing (nothing is committed), then 504
    timeout_next: int = 0
    timeout_seconds: float = 30.0
    drop_after_commit_rate: float = 0.0  # process and commit, then lose the response
    drop_after_commit_next: int = 0
    drop_mode: str = "abort"  # "abort": cut the connection mid-response; "hang": never answer in time
    route: str | None = None
    seed: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        names = {f.name: f for f in fields(self)}
        unknown = set(changes) - set(names)
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        if "drop_mode" in changes and changes["drop_mode"] not in ("abort", "hang"):
            raise ValueError("drop_mode must be 'abort' or 'hang'")
        for key, value in changes.items():
            default = getattr(FaultSettings(), key)
            if value is not None and isinstance(default, float):
                value = float(value)
            elif value is not None and isinstance(default, int) and not isinstance(default, bool):
                value = int(value)
            setattr(self, key, value)


class FaultInjector:
    def __init__(self, settings: FaultSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._seed_used: int | None = settings.seed
        self._rng = random.Random(settings.seed)

    def replace(self, settings: FaultSettings) -> None:
        with self._lock:
            self.settings = settings
            self._seed_used = settings.seed
            self._rng = random.Random(settings.seed)

    def reseed(self) -> None:
        with self._lock:
            self._seed_used = self.settings.seed
            self._rng = random.Random(self.settings.seed)

    def _fires(self, kind: str) -> bool:
        s = self.settings
        pending = getattr(s, f"{kind}_next")
        if pending > 0:
            setattr(s, f"{kind}_next", pending - 1)
            return True
        rate = float(getattr(s, f"{kind}_rate"))
        return rate > 0 and self._rng.random() < rate

    def decide(self, route_key: str) -> tuple[FaultKind | None, bool]:
        """(fault before processing, drop the response after commit) for one request."""
        with self._lock:
            s = self.settings
            if s.seed != self._seed_used:
                self._seed_used = s.seed
                self._rng = random.Random(s.seed)
            if s.route and not fnmatch.fnmatchcase(route_key, s.route):
                return None, False
            kinds: tuple[FaultKind, ...] = ("rate_limit", "timeout", "error")
            for kind in kinds:
                if self._fires(kind):
                    return kind, False
            return None, self._fires("drop_after_commit")


class Counters:
    """Requests per ``"METHOD /V1/template"`` (faulted ones included) and per response status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._statuses: dict[str, dict[str, int]] = {}

    def hit(self, key: str) -> None:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1

    def status(self, key: str, status: int) -> None:
        with self._lock:
            per = self._statuses.setdefault(key, {})
            per[str(status)] = per.get(str(status), 0) + 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "counters": dict(sorted(self._counts.items())),
                "statuses": {k: dict(v) for k, v in sorted(self._statuses.items())},
                "total": sum(self._counts.values()),
            }

    def get(self, key: str) -> int:
        with self._lock:
            return self._counts.get(key, 0)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._statuses.clear()
