"""Token rotation: R-Series revokes a refresh token when it is used, so the new pair must be kept
at once and safely. A refresh racing other requests, two processes refreshing together, and a
restart between refresh and persist never lock m2pos out; losing the pair would."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import pytest

from m2pos.pos.lightspeed_retail import _tokens
from m2pos.pos.port import PosError

from .conftest import Env


def _kept(path: Path) -> dict[str, object]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


async def test_the_rotated_pair_is_kept_0600_and_used_after_a_restart(env: Env) -> None:
    tokens = env.directory / "tokens.json"
    pos = env.adapter()
    await pos.check()
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    first = _kept(tokens)
    assert first["refresh_token"] != env.sandbox.oauth.initial_refresh_token
    assert env.sandbox.oauth.initial_refresh_token not in repr(pos) + repr(pos.client) + repr(
        pos.client.store
    )
    env.sandbox.tokens.expire_access()
    restarted = env.adapter()  # the configured refresh token is spent: only the file can help
    await restarted.check()
    assert _kept(tokens)["refresh_token"] != first["refresh_token"]
    assert env.sandbox.tokens.state.rejected_refreshes == 0


async def test_a_lost_pair_locks_m2pos_out_and_says_what_to_do(env: Env) -> None:
    pos = env.adapter()
    await pos.check()
    (env.directory / "tokens.json").unlink()  # what the store exists to prevent
    env.sandbox.tokens.expire_access()
    with pytest.raises(PosError) as raised:
        await env.adapter().check()
    assert not raised.value.retryable and "authorise m2pos again" in raised.value.message


async def test_a_refresh_racing_other_requests_refreshes_once(env: Env) -> None:
    pos = env.adapter()
    await pos.check()
    refreshes = env.sandbox.tokens.state.refreshes
    env.sandbox.tokens.expire_access()  # every request in flight now gets 401
    found = await asyncio.gather(*(pos.find_document(f"none-{n}") for n in range(20)))
    assert found == [None] * 20
    assert env.sandbox.tokens.state.refreshes == refreshes + 1
    assert env.sandbox.tokens.state.rejected_refreshes == 0


async def test_two_processes_refreshing_at_once_keep_one_pair(env: Env) -> None:
    one, two = env.adapter(), env.adapter()  # separate clients, one token file (two processes)
    await one.check()
    await two.check()
    for _ in range(3):
        env.sandbox.tokens.expire_access()
        await asyncio.gather(one.find_document("x"), two.find_document("y"))
    assert env.sandbox.tokens.state.rejected_refreshes == 0
    env.sandbox.tokens.expire_access()
    assert await env.adapter().find_document("z") is None  # a third one still gets in


async def test_a_restart_between_refresh_and_persist_adopts_the_new_pair(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    pos = env.adapter()
    await pos.check()
    tokens = env.directory / "tokens.json"
    env.sandbox.tokens.expire_access()
    real = _tokens.write_atomically
    calls: list[Path] = []

    def crash_before_the_rename(path: Path, text: str) -> None:
        calls.append(path)
        if path == tokens:  # the ".new" copy was written; the process dies before the file itself
            raise KeyboardInterrupt("killed")
        real(path, text)

    monkeypatch.setattr(_tokens, "write_atomically", crash_before_the_rename)
    with pytest.raises(KeyboardInterrupt):
        await pos.find_document("x")
    monkeypatch.setattr(_tokens, "write_atomically", real)
    assert calls[0].name == "tokens.json.new"
    restarted = env.adapter()
    assert await restarted.find_document("x") is None
    assert env.sandbox.tokens.state.rejected_refreshes == 0
    assert not (env.directory / "tokens.json.new").exists()
