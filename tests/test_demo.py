"""`m2pos demo` (what `make demo` runs): the sandboxes, the sync loop and shop traffic together."""

from __future__ import annotations

import re
import subprocess
import sys


def run_demo(*options: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "m2pos.cli",
            "demo",
            "--port",
            "0",
            "--orders",
            "30",
            "--duration",
            "8",
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_demo_moves_orders_into_the_onsite_sandbox() -> None:
    output = run_demo()
    assert "Lightspeed OnSite sandbox" in output
    assert re.search(r"is in the POS as order O-\d+ and invoiced in Magento", output), output
    assert "shop  order" in output  # live traffic
    assert "'transferred':" in output


def test_the_demo_runs_with_the_memory_pos() -> None:
    output = run_demo("--pos", "memory")
    assert "memory POS" in output
    assert re.search(r"is in the POS as sale S-\w+", output), output
