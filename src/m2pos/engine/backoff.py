"""When a failed order or credit memo is tried again."""

from __future__ import annotations

import random
from datetime import datetime, timedelta


def next_retry_at(
    attempts: int,
    now: datetime,
    *,
    max_attempts: int,
    base_seconds: float,
    max_seconds: float,
    retryable: bool = True,
    rng: random.Random | None = None,
) -> datetime | None:
    """Exponential backoff with ±20 % jitter; ``None`` once attempts are exhausted ("needs attention").

    ``attempts`` counts the failure being recorded. A failure that retrying cannot mend (the POS
    refused the document) needs attention at once.
    """
    if not retryable or attempts >= max_attempts:
        return None
    delay = min(max_seconds, base_seconds * 2 ** max(0, attempts - 1))
    jitter = (rng or random).uniform(0.8, 1.2)
    return now + timedelta(seconds=min(max_seconds, delay * jitter))
