"""Workers and schedulers over real Redis and PostgreSQL: every eligible order of every store lands in
its POS exactly once, nothing ineligible does, and the store runs show one lease at a time."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections import Counter

import psutil
import pytest
import redis

from m2pos.ledger import Ledger, utcnow
from m2pos.worker import Deployment, make_celery, run_scheduler
from tests.worker.conftest import Cluster

STORES = [f"shop-{n}" for n in range(3)]


def _place(cluster: Cluster, store: str, eligible: int, waiting: int) -> set[str]:
    sandbox = cluster.sandboxes[store]
    wanted = set()
    for n in range(eligible):
        order = sandbox.control.place_order("simple", payment="authorised", guest=n % 2 == 0)
        wanted.add(str(order["increment_id"]))
    for _ in range(waiting):
        sandbox.control.place_order("simple", payment="checkmo")  # not paid: waits, never downloaded
    return wanted


def _converged(cluster: Cluster, expected: dict[str, set[str]]) -> bool:
    return all({ref for ref, _ in cluster.pos_documents(s)} >= expected[s] for s in expected)


def test_two_workers_and_two_schedulers_carry_every_store_exactly_once(cluster: Cluster) -> None:
    expected = {}
    for store in STORES:
        cluster.add_sandbox(store)
        expected[store] = _place(cluster, store, eligible=6, waiting=2)
    deployment = Deployment.open(cluster.config)
    for store in STORES:
        deployment.directory.add(store, cluster.store_data(store), "test")
    cluster.start_worker(concurrency=2)
    cluster.start_worker(concurrency=2)
    stop = threading.Event()
    app = make_celery(cluster.redis.url)
    schedulers = [threading.Thread(target=run_scheduler, args=(deployment, app, stop)) for _ in range(2)]
    for thread in schedulers:
        thread.start()
    try:
        deadline = time.monotonic() + 90
        while not _converged(cluster, expected) and time.monotonic() < deadline:
            time.sleep(0.5)
        # a few more cycles: nothing may be carried twice or late
        time.sleep(3)
    finally:
        stop.set()
        for thread in schedulers:
            thread.join()
    problems = []
    for store in STORES:
        documents = Counter(ref for ref, kind in cluster.pos_documents(store) if kind == "sale")
        doubles = [ref for ref, n in documents.items() if n > 1]
        missing = sorted(expected[store] - set(documents))
        extra = sorted(set(documents) - expected[store])
        if doubles or missing or extra:
            problems.append(f"{store}: doubles {doubles}, missing {missing}, not eligible {extra}")
        ledger = Ledger(deployment.engine, store)
        if len(ledger.list_orders(limit=100)) != len(expected[store]) + 2:
            problems.append(f"{store}: the ledger does not know every order")
    states = deployment.runs.states()
    assert all(states[s].cycles >= 2 for s in STORES), {s: states[s].cycles for s in STORES}
    budgets = {key.decode() for key in redis.Redis.from_url(cluster.redis.url).keys("m2pos:budget:*")}
    # Every store's Magento requests were spent from its shared budget (the memory POS has no API).
    assert {f"m2pos:budget:{s}:magento" for s in STORES} <= budgets
    logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in cluster.directory.glob("worker-*.log"))
    assert not problems, "\n".join(problems) + "\n" + logs
    deployment.close()


def test_fifty_stores_survive_a_killed_worker_and_a_broker_restart(cluster: Cluster) -> None:
    stores = [f"store-{n:02d}" for n in range(50)]
    expected: dict[str, set[str]] = {}
    for store in stores:
        cluster.add_sandbox(store)
        expected[store] = _place(cluster, store, eligible=3, waiting=1)
    deployment = Deployment.open(cluster.config)
    for store in stores:
        deployment.directory.add(store, cluster.store_data(store), "test")
    victim = cluster.start_worker(concurrency=2)
    cluster.start_worker(concurrency=2)
    stop = threading.Event()
    app = make_celery(cluster.redis.url)
    schedulers = [threading.Thread(target=run_scheduler, args=(deployment, app, stop)) for _ in range(2)]
    for thread in schedulers:
        thread.start()
    try:
        # Kill a worker in the middle of the work (SIGKILL: no chance to finish or acknowledge).
        deadline = time.monotonic() + 60
        while sum(len(cluster.pos_documents(s)) for s in stores) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        processes = [psutil.Process(victim.pid), *psutil.Process(victim.pid).children(recursive=True)]
        for process in processes:
            process.kill()
        pids = {str(p.pid) for p in processes}
        held = [
            s for s in deployment.runs.states().values() if (s.lease_holder or "::").split(":")[1] in pids
        ]
        cluster.start_worker(concurrency=2)
        # Restart the broker (it keeps nothing: queued messages are lost and must be re-queued).
        time.sleep(1)
        cluster.redis.stop()
        time.sleep(1)
        cluster.redis.start()
        for store in stores:  # the shop goes on selling
            expected[store] |= _place(cluster, store, eligible=1, waiting=0)
        deadline = time.monotonic() + 120
        while not _converged(cluster, expected) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(3)
    finally:
        stop.set()
        for thread in schedulers:
            thread.join()
    assert held, "the killed worker held no store: it was not killed mid-cycle"
    problems = []
    for store in stores:
        documents = Counter(ref for ref, kind in cluster.pos_documents(store) if kind == "sale")
        doubles = [ref for ref, n in documents.items() if n > 1]
        missing = sorted(expected[store] - set(documents))
        extra = sorted(set(documents) - expected[store])
        if doubles or missing or extra:
            problems.append(f"{store}: doubles {doubles}, missing {missing}, not eligible {extra}")
    logs = "\n".join(p.read_text(errors="replace")[-1500:] for p in cluster.directory.glob("worker-*.log"))
    assert not problems, "\n".join(problems) + "\n" + logs
    deployment.close()


def test_a_worker_stopped_with_sigterm_finishes_the_cycles_in_hand(cluster: Cluster) -> None:
    stores = [f"slow-{n}" for n in range(2)]
    expected = {}
    for store in stores:
        cluster.add_sandbox(store, latency_ms=150)  # every Magento call takes a while
        expected[store] = _place(cluster, store, eligible=4, waiting=0)
    deployment = Deployment.open(cluster.config)
    for store in stores:
        deployment.directory.add(store, cluster.store_data(store), "test")
    worker = cluster.start_worker(concurrency=2)
    app = make_celery(cluster.redis.url)
    stop = threading.Event()
    scheduler = threading.Thread(target=run_scheduler, args=(deployment, app, stop))
    scheduler.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
            s.running(utcnow()) for s in deployment.runs.states().values()
        ):
            time.sleep(0.02)
        running = [s.store for s in deployment.runs.states().values() if s.running(utcnow())]
        assert running, "no cycle was running"
        worker.terminate()  # SIGTERM: a warm shutdown
        worker.wait(timeout=60)
    finally:
        stop.set()
        scheduler.join()
    states = deployment.runs.states()
    for store in running:  # the cycle in hand ran to its end and gave the lease back
        assert states[store].lease_holder is None and states[store].last_outcome == "ok", states[store]
    deployment.close()


def test_a_store_with_a_backlog_does_not_starve_the_others(cluster: Cluster) -> None:
    cluster.write_config(orders_per_slice=20)
    cluster.add_sandbox("big")
    big = _place(cluster, "big", eligible=240, waiting=0)
    small = [f"small-{n}" for n in range(4)]
    expected = {}
    for store in small:
        cluster.add_sandbox(store)
    deployment = Deployment.open(cluster.config)
    deployment.directory.add("big", cluster.store_data("big"), "test")
    for store in small:
        deployment.directory.add(store, cluster.store_data(store), "test")
    cluster.start_worker(concurrency=1)  # one cycle at a time: the stores must take turns
    app = make_celery(cluster.redis.url)
    stop = threading.Event()
    scheduler = threading.Thread(target=run_scheduler, args=(deployment, app, stop))
    scheduler.start()
    try:
        deadline = time.monotonic() + 60
        while len(cluster.pos_documents("big")) < 40 and time.monotonic() < deadline:
            time.sleep(0.1)
        # The big store is mid-backlog; the small stores' shops sell now.
        for store in small:
            expected[store] = _place(cluster, store, eligible=2, waiting=0)
        while not _converged(cluster, expected) and time.monotonic() < deadline:
            time.sleep(0.1)
        big_when_small_done = len(cluster.pos_documents("big"))
        while not _converged(cluster, {"big": big}) and time.monotonic() < deadline + 120:
            time.sleep(0.2)
    finally:
        stop.set()
        scheduler.join()
    assert _converged(cluster, expected), "the small stores waited for the big store's backlog"
    assert big_when_small_done < len(big), "the big store's backlog was done before the others were served"
    assert sorted(ref for ref, _ in cluster.pos_documents("big")) == sorted(big)  # each once
    deployment.close()


def test_rabbitmq_as_the_broker(cluster: Cluster) -> None:
    """The same flow with the machine's RabbitMQ as the broker (a queue of the test's own)."""
    amqp = "amqp://guest:guest@127.0.0.1:5672//"
    queue = f"m2pos-test-{uuid.uuid4().hex[:8]}"
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=2):
            pass
    except OSError:
        pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672")
    cluster.write_config(broker_url=amqp, queue=queue)
    expected = {}
    for store in STORES:
        cluster.add_sandbox(store)
        expected[store] = _place(cluster, store, eligible=3, waiting=1)
    deployment = Deployment.open(cluster.config)
    assert deployment.budgets() is None  # no Redis: each worker paces by itself (docs/deploy.md)
    for store in STORES:
        deployment.directory.add(store, cluster.store_data(store), "test")
    cluster.start_worker(concurrency=2)
    app = make_celery(amqp, queue=queue)
    stop = threading.Event()
    scheduler = threading.Thread(target=run_scheduler, args=(deployment, app, stop))
    scheduler.start()
    try:
        deadline = time.monotonic() + 90
        while not _converged(cluster, expected) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        stop.set()
        scheduler.join()
        cluster.stop_workers()
        with app.connection_for_write() as connection:
            connection.default_channel.queue_delete(queue)
    for store in STORES:
        assert sorted(ref for ref, _ in cluster.pos_documents(store)) == sorted(expected[store]), store
    deployment.close()
