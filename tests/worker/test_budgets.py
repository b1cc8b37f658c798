"""A store's request-rate budget holds across processes: two workers spending the same budget as
fast as they can together get what the budget allows, not twice as much."""

from __future__ import annotations

import asyncio
import multiprocessing
import time

from m2pos.engine.budgets import Budgets
from tests.worker.conftest import RedisServer

RATE = 20.0
SECONDS = 2.0


def _spend(redis_url: str, start_at: float, results: multiprocessing.Queue[int]) -> None:
    async def main() -> int:
        budgets = Budgets(redis_url)
        limiter = budgets.limiter("shop-eu", "magento", RATE)
        taken = 0
        await asyncio.sleep(max(0.0, start_at - time.time()))
        while time.time() < start_at + SECONDS:
            await limiter.acquire()
            if time.time() < start_at + SECONDS:
                taken += 1
        await budgets.aclose()
        return taken

    results.put(asyncio.run(main()))


def test_two_processes_share_one_budget(redis_server: RedisServer) -> None:
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[int] = context.Queue()
    start_at = time.time() + 2.0  # both start together, once spawned
    workers = [context.Process(target=_spend, args=(redis_server.url, start_at, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    taken = [results.get(timeout=30) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
    allowed = RATE * SECONDS + RATE  # the refill over the run plus one full bucket (the burst)
    assert sum(taken) <= allowed + 2, taken  # not 2 x the budget
    assert sum(taken) >= 0.8 * RATE * SECONDS, taken  # and the budget is used, not wasted
    assert min(taken) > 0.2 * sum(taken), taken  # both get a share
