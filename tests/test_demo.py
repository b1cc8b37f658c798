"""`m2pos demo` (what `make demo` runs): the sandboxes, the sync loop and shop traffic together."""

from __future__ import annotations

import re
import subprocess
import sys

import httpx


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
            "--web-port",
            "0",
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


def test_the_demo_serves_the_console_and_prints_the_first_run_login() -> None:
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "m2pos.cli",
            "demo",
            "--port",
            "0",
            "--web-port",
            "0",
            "--orders",
            "10",
            "--duration",
            "30",
            "--pos",
            "memory",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    try:
        assert demo.stdout is not None
        first_run = ""
        for line in demo.stdout:
            found = re.search(r"First run: open (http://\S+/setup\?code=(\S+)) ", line)
            if found:
                first_run, code = found.group(1), found.group(2)
                break
        assert first_run, "the demo did not print the console's first-run address"
        with httpx.Client(follow_redirects=False, timeout=10) as client:
            page = client.get(first_run)
            assert page.status_code == 200 and f'value="{code}"' in page.text
            token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
            assert token
            done = client.post(
                first_run.split("?")[0],
                data={
                    "login_csrf": token.group(1),
                    "code": code,
                    "username": "admin",
                    "password": "demo password",
                    "repeat": "demo password",
                },
            )
            assert done.status_code == 303
            status = client.get(first_run.split("/setup")[0] + "/status")
            assert status.status_code == 200 and "Last import and export" in status.text
    finally:
        demo.terminate()
        demo.wait(timeout=60)


def test_the_demo_runs_with_the_xseries_sandbox() -> None:
    output = run_demo("--pos", "lightspeed_xseries")
    assert "Lightspeed X-Series sandbox" in output
    assert re.search(r"is in the POS as sale [0-9a-f-]{36}", output), output
