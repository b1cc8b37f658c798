"""Settings saved from the web console: kept in the database, encrypted where secret.

They form the layer between the settings file and the environment (``SettingsLayers``): what a
merchant saves in the console overrides ``m2pos.toml``; a key set by an ``M2POS_*`` variable cannot be
changed from the console (the console says so). The sync loop reads the layers again before every
cycle, so a saved change takes effect at the next cycle. Saving validates with the same rules as the
file, and records the download rules in the settings history with who changed them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from m2pos.engine.context import record_rules
from m2pos.ledger import Ledger, utcnow
from m2pos.ledger.console import ConsoleStore, SavedValue
from m2pos.pos import validate_pos_settings
from m2pos.secretbox import SecretBox
from m2pos.settings import Settings, SettingsError, SettingsLayers, flatten, nest, read_layers
from m2pos.settings_fields import editable_keys

# The keys the console edits; True for secrets (encrypted at rest, never sent to the browser).
EDITABLE: dict[str, bool] = editable_keys()


@dataclass(frozen=True)
class Origin:
    """Where a key's value comes from, in the words the console shows."""

    layer: str  # "environment", "console", "file" or "default"
    detail: str  # e.g. the variable's name, or who saved it and when


class SettingsStore:
    """The layers of one store's settings, and the console's saved values over them."""

    def __init__(self, layers: SettingsLayers, ledger: Ledger, environ: Mapping[str, str] | None = None):
        self.layers = layers
        self._ledger = ledger
        self._console = ConsoleStore(ledger)
        base = layers.resolve()
        self._box = SecretBox(Path(base.state.secret_key_file), environ)

    def effective(self) -> Settings:
        """The settings in force: file, then what the console saved, then the environment."""
        return self.layers.resolve(nest(self._saved()))

    def locked(self) -> set[str]:
        """Keys set by an environment variable: the console shows them read-only."""
        return set(flatten(self.layers.environment))

    def origin(self, key: str) -> Origin:
        return self.origins([key])[key]

    def origins(self, keys: Iterable[str]) -> dict[str, Origin]:
        """Where each key's value comes from (one read of the saved settings for them all)."""
        locked, in_file = self.locked(), flatten(self.layers.file)
        saved = {row.key: row for row in self._console.saved_settings()}
        found: dict[str, Origin] = {}
        for key in keys:
            row = saved.get(key)
            if key in locked:
                found[key] = Origin("environment", "M2POS_" + key.upper().replace(".", "__"))
            elif row is not None:
                found[key] = Origin(
                    "console", f"saved by {row.changed_by}, {row.changed_at:%Y-%m-%d %H:%M} UTC"
                )
            elif key in in_file:
                found[key] = Origin("file", self.layers.source)
            else:
                found[key] = Origin("default", "")
        return found

    def save(self, changes: Mapping[str, Any], changed_by: str, now: datetime | None = None) -> Settings:
        """Validate and save ``changes`` (dotted key → value; None: back to the file or default).

        Secrets come in plaintext; an empty secret is not a change (the browser never has the saved
        one). Raises ``SettingsError`` naming each bad key; nothing is saved then.
        """
        changes = self._checked(changes)
        settings = self.preview(changes)
        self._console.save_settings(
            {key: self._encode(key, value) for key, value in changes.items()}, changed_by, now
        )
        record_rules(self._ledger, settings, changed_by, now or utcnow())
        return settings

    def preview(self, changes: Mapping[str, Any]) -> Settings:
        """The settings ``changes`` would give, validated, without saving anything."""
        changes = self._checked(changes)
        proposed = {**self._saved(), **changes}
        settings = self.layers.resolve(nest({k: v for k, v in proposed.items() if v is not None}))
        validate_pos_settings(settings.pos, "console settings")
        return settings

    def _checked(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        unknown = [key for key in changes if key not in EDITABLE]
        locked = self.locked() & set(changes)
        if unknown or locked:
            problems = [f"  {key}: not a setting the console can change" for key in unknown]
            problems += [
                f"  {key}: set by the environment variable {self.origin(key).detail}" for key in locked
            ]
            raise SettingsError("console settings: invalid settings\n" + "\n".join(problems))
        return {k: v for k, v in changes.items() if not (EDITABLE[k] and v in ("", None))}

    def _saved(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for row in self._console.saved_settings():
            if row.key not in EDITABLE:
                continue  # a key a newer version saved, or one no longer editable: ignore it
            raw = self._box.decrypt(json.loads(row.value_json), row.key) if row.secret else row.value_json
            values[row.key] = raw if row.secret else json.loads(raw)
        return values

    def _encode(self, key: str, value: Any) -> SavedValue | None:
        if value is None:
            return None
        if EDITABLE[key]:
            return SavedValue(json.dumps(self._box.encrypt(str(value))), secret=True)
        return SavedValue(json.dumps(value))


def load_effective_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """What a command runs with: the file, the console's saved settings, the environment."""
    layers = read_layers(path, environ)
    ledger = Ledger.open(layers.resolve().state.database_url)
    try:
        return SettingsStore(layers, ledger, environ).effective()
    finally:
        ledger.close()


LayersSource = Callable[[], SettingsLayers]


def reloader(layers: LayersSource, ledger: Ledger) -> Callable[[], Settings]:
    """Reads the settings again (file, console, environment) through an open ledger: the loop's."""
    return lambda: SettingsStore(layers(), ledger).effective()
