"""One OnSite server session per adapter, kept through its cookie (and its file), logged out on close:
no seat leaks, whatever the concurrency, restarts of the server or crashes of m2pos."""

from __future__ import annotations

import asyncio
import stat

import pytest

from m2pos.pos.port import PosError

from .conftest import Env


async def test_one_session_for_many_calls_and_logout_on_close(env: Env) -> None:
    pos = env.adapter()
    await pos.check()
    for kind in ("simple", "configurable", "bundle"):
        order = env.order(kind)
        await pos.create_document(order, order.increment_id or "")
    await pos.stock_levels(["MUG-001", "24-WG084"])
    (session,) = env.control.sessions()
    assert session["requests"] == env.requests() > 20
    assert pos.client.session_id == session["id"]
    assert pos.client.limiter.acquired == pos.client.requests  # every request spent from the budget
    session_file = env.directory / "onsite-session"
    assert session_file.read_text() == session["id"]
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600  # the cookie is a credential
    await pos.aclose()
    assert env.control.sessions() == []
    assert env.count("POST /api/sessions/current/logout/") == 1
    assert not session_file.exists()
    await pos.aclose()  # closing twice is harmless


async def test_concurrent_first_calls_open_one_session(env: Env) -> None:
    pos = env.adapter()
    await asyncio.gather(*(pos.stock_levels([f"LS-0000{n}"]) for n in range(1, 6)))
    assert len(env.control.sessions()) == 1


async def test_no_seat_leak_across_many_adapters(env: Env) -> None:
    env.control.set_config(seats=2)
    for n in range(12):
        pos = env.adapter(session_file=str(env.directory / f"session-{n}"))
        await pos.stock_levels(["MUG-001"])
        await pos.aclose()
    assert env.control.sessions() == []


async def test_a_killed_process_leaves_its_session_to_the_next_one(env: Env) -> None:
    env.control.set_config(seats=1)
    crashed = env.adapter()
    await crashed.stock_levels(["MUG-001"])
    env.adapters.remove(crashed)  # killed: never logged out, its session stays open on the server
    # The next process reads the session from the file and goes on with it: no new seat needed.
    restarted = env.adapter()
    assert await restarted.stock_levels(["MUG-001"])
    assert len(env.control.sessions()) == 1
    assert restarted.client.session_id == crashed.client.session_id
    await restarted.aclose()
    assert env.control.sessions() == []
    await crashed.client._http.aclose()


async def test_a_server_restart_is_survived_without_extra_sessions(env: Env) -> None:
    pos = env.adapter()
    await pos.stock_levels(["MUG-001"])
    old = pos.client.session_id
    env.control.clear_sessions()  # Lightspeed Server restarted: every session is gone
    # Five calls in flight with the stale cookie: the server opens a session for each.
    await asyncio.gather(*(pos.client.get("products/", {"count": 1}) for _ in range(5)))
    sessions = env.control.sessions()
    assert len(sessions) == 1  # one adopted, the four surplus ones logged out
    assert env.count("POST /api/sessions/current/logout/") == 4
    assert pos.client.session_id == sessions[0]["id"] != old


async def test_no_seat_free_is_retryable_and_says_what_to_do(env: Env) -> None:
    env.control.set_config(seats=1)
    first = env.adapter(session_file=str(env.directory / "one"))
    await first.stock_levels(["MUG-001"])
    second = env.adapter(session_file=str(env.directory / "two"))
    with pytest.raises(PosError) as refused:
        await second.check()
    assert refused.value.retryable
    assert "seat" in refused.value.message and "restart Lightspeed Server" in refused.value.message


async def test_sessions_are_kept_in_memory_only_when_asked(env: Env) -> None:
    pos = env.adapter(session_file="")
    await pos.stock_levels(["MUG-001"])
    assert pos.client.session_file is None
    assert list(env.directory.iterdir()) == []
