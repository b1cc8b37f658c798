"""Store runs on SQLite and PostgreSQL: a due store is queued once however many schedulers ask, its
lease is held by one worker at a time, one more cycle may wait queued while one runs, a dead
worker's lease expires and another takes the store over, and a lost queue message is re-queued."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from m2pos.ledger import create_ledger_engine, migrate
from m2pos.ledger.runs import StoreRuns
from m2pos.ledger.stores import StoreDirectory
from m2pos.secretbox import SecretBox

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def runs(database_url: str, tmp_path: Path) -> StoreRuns:
    engine = create_ledger_engine(database_url)
    migrate(engine)
    directory = StoreDirectory(engine, SecretBox(tmp_path / "key", environ={}))
    for store in ("a", "b", "c"):
        directory.add(store, {"pos": {"kind": "memory"}}, "test", now=T0)
    directory.set_enabled("c", False, "test")
    return StoreRuns(engine)


def test_due_stores_are_queued_once(runs: StoreRuns) -> None:
    assert runs.due(T0) == ["a", "b"]  # c is disabled
    assert runs.queue("a", T0) and not runs.queue("a", T0)  # a second scheduler loses
    assert runs.due(T0) == ["b"]


def test_one_lease_at_a_time_and_one_more_queued(runs: StoreRuns) -> None:
    assert runs.queue("a", T0)
    assert runs.take_lease("a", "worker-1", ttl=60, now=T0)
    assert not runs.take_lease("a", "worker-2", ttl=60, now=T0 + timedelta(seconds=1))
    state = runs.state("a")
    assert state is not None and state.running(T0) and state.queued_at is None
    # While it runs, one more cycle may wait, not two.
    assert runs.queue("a", T0 + timedelta(seconds=2))
    assert not runs.queue("a", T0 + timedelta(seconds=3))
    later = T0 + timedelta(seconds=30)
    assert runs.release("a", "worker-1", "ok", next_due_at=later, now=T0 + timedelta(seconds=5))
    assert not runs.release("a", "worker-1", "ok", next_due_at=later)  # released once
    assert runs.take_lease("a", "worker-2", ttl=60, now=T0 + timedelta(seconds=6))
    state = runs.state("a")
    assert state is not None and state.cycles == 1 and state.last_outcome == "ok"


def test_a_dead_worker_lease_expires_and_its_renewal_fails(runs: StoreRuns) -> None:
    assert runs.take_lease("a", "dead", ttl=30, now=T0)
    assert not runs.take_lease("a", "alive", ttl=30, now=T0 + timedelta(seconds=29))
    assert runs.take_lease("a", "alive", ttl=30, now=T0 + timedelta(seconds=31))
    assert not runs.renew("a", "dead", ttl=30, now=T0 + timedelta(seconds=32))  # it must stop
    assert not runs.release("a", "dead", "ok", next_due_at=T0)
    assert runs.renew("a", "alive", ttl=30, now=T0 + timedelta(seconds=32))


def test_a_queue_mark_whose_message_was_lost_is_queued_again(runs: StoreRuns) -> None:
    assert runs.queue("b", T0)
    assert not runs.queue("b", T0 + timedelta(seconds=599), stale_after=600)
    assert runs.due(T0 + timedelta(seconds=601), stale_after=600) == ["a", "b"]
    assert runs.queue("b", T0 + timedelta(seconds=601), stale_after=600)


def test_racing_schedulers_and_workers_each_have_one_winner(runs: StoreRuns) -> None:
    barrier = threading.Barrier(8)
    queued: list[bool] = []
    leased: list[str] = []

    def contend(n: int) -> None:
        barrier.wait()
        queued.append(runs.queue("a", T0))
        barrier.wait()
        if runs.take_lease("a", f"worker-{n}", ttl=60, now=T0):
            leased.append(f"worker-{n}")

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert queued.count(True) == 1
    assert len(leased) == 1
    state = runs.state("a")
    assert state is not None and state.lease_holder == leased[0]
