"""Every POS is registered once (``m2pos.pos.registry``), and everything that lists POSes reads it:
``[pos] kind``, ``m2pos sandbox``, ``m2pos demo --pos``, the console's sections and editable keys.

For each POS with a demo, the demo's sandbox is started for real and the adapter opened from the
demo's settings checks its connection over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from m2pos.cli import app
from m2pos.pos import open_pos, validate_pos_settings
from m2pos.pos.registry import POS_KINDS
from m2pos.settings import SettingsError, settings_from_dict
from m2pos.settings_store import EDITABLE
from m2pos.web._forms import connection_sections, order_sections

KINDS = sorted(POS_KINDS)
WITH_SANDBOX = [k for k in KINDS if POS_KINDS[k].sandbox is not None]


def test_every_lightspeed_and_heartland_pos_is_registered() -> None:
    expected = {"lightspeed_onsite", "lightspeed_retail", "lightspeed_xseries", "heartland", "memory"}
    assert set(KINDS) == expected


def test_an_unknown_kind_is_refused_naming_the_registered_ones() -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from_dict({"pos": {"kind": "lightspeed_omni"}})
    text = str(raised.value)
    assert "pos.kind" in text and "lightspeed_omni" in text
    assert all(kind in text for kind in KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_the_demo_settings_open_an_adapter_that_reaches_its_sandbox(kind: str, tmp_path: Path) -> None:
    pos = POS_KINDS[kind]
    assert pos.demo is not None, f"{kind} has no demo"

    async def check() -> str:
        adapter = open_pos(settings.pos)
        try:
            assert adapter.kind == kind
            return await adapter.check()
        finally:
            await adapter.aclose()

    with contextlib.ExitStack() as stack:
        started = pos.demo(stack, tmp_path)
        settings = settings_from_dict({"pos": started.settings})
        validate_pos_settings(settings.pos)
        said = asyncio.run(check())
    assert said  # the adapter's own account of what it reached


@pytest.mark.parametrize("kind", [k for k in KINDS if POS_KINDS[k].order_section is not None])
def test_the_console_shows_the_pos_sections_and_may_edit_every_key(kind: str, tmp_path: Path) -> None:
    pos = POS_KINDS[kind]
    assert pos.order_section in order_sections(kind)
    assert pos.connection_section in connection_sections(kind)
    fields = [f for s in (pos.order_section, pos.connection_section) if s is not None for f in s.fields]
    for f in fields:
        assert EDITABLE[f.key] == (f.kind == "secret"), f.key
    # Another POS's sections are not shown.
    others = [POS_KINDS[k].order_section for k in KINDS if k != kind]
    assert not any(section in order_sections(kind) for section in others if section is not None)
    # What the console shows by default is valid for the adapter, over the demo's connection.
    assert pos.demo is not None
    with contextlib.ExitStack() as stack:
        table = dict(pos.demo(stack, tmp_path).settings)
    options = dict(table.get(kind, {}))  # type: ignore[call-overload]
    for f in fields:
        if f.key.startswith(f"pos.{kind}.") and f.default is not None:
            options[f.key.rsplit(".", 1)[1]] = f.default
    table[kind] = options
    validate_pos_settings(settings_from_dict({"pos": table}).pos)


@pytest.mark.parametrize("kind", WITH_SANDBOX)
def test_each_sandbox_is_a_command(kind: str) -> None:
    sandbox = POS_KINDS[kind].sandbox
    assert sandbox is not None
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["sandbox", sandbox.name, "--help"])
    assert result.exit_code == 0, result.output
    assert "--port" in result.output


def test_the_demo_refuses_an_unknown_pos_naming_each_it_can_run() -> None:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["demo", "--pos", "lightspeed_omni"])
    assert result.exit_code != 0
    assert all(kind in result.output for kind in KINDS), result.output
