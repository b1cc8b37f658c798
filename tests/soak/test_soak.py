"""The short soak in ``make test``: each POS, with faults on both sides, kills, and the switch to
Wait for Invoice half-way (``make soak`` runs 10,000 orders per POS). ``M2POS_TEST_SEED`` replays."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.soak.soak import VARIANTS, soak

SEED = int(os.environ.get("M2POS_TEST_SEED", random.randrange(1_000_000)))
ORDERS = int(os.environ.get("M2POS_SOAK_ORDERS", "120"))


@pytest.mark.timeout(600)
@pytest.mark.parametrize("kind", sorted(VARIANTS))
def test_soak_with_faults_and_kills(tmp_path: Path, kind: str) -> None:
    outcome = soak(tmp_path, kind, ORDERS, seconds=20, seed=SEED)
    print(outcome.summary)
    assert outcome.report.counts["in the POS"] > ORDERS // 2, outcome.summary
    assert outcome.report.counts["wait_for_invoice orders"] > 0, outcome.summary
    assert not outcome.report.problems, f"set M2POS_TEST_SEED={SEED} to replay:\n{outcome.summary}"
