"""The dependency audit's verdict on pip-audit reports (the vulnerability service itself is not
reachable from the test machines, so its JSON answer is written out here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location("audit", Path(__file__).parent.parent / "scripts" / "audit.py")
assert spec and spec.loader
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)


def test_a_known_vulnerability_fails_and_names_the_package_and_fix() -> None:
    report = {
        "dependencies": [
            {"name": "httpx", "version": "0.28.1", "vulns": []},
            {"name": "jinja2", "version": "3.1.2", "vulns": [{"id": "GHSA-h5c8", "fix_versions": ["3.1.3"]}]},
        ]
    }
    lines, failed = audit.judge(report, "pypi", strict=False)
    assert failed
    assert "audit: VULNERABLE jinja2 3.1.2: GHSA-h5c8 (fixed in 3.1.3)" in lines
    assert "2 packages audited, 1 known vulnerabilities" in lines[1]


def test_packages_not_audited_are_said_so_and_fail_only_when_strict() -> None:
    report = {
        "dependencies": [
            {"name": "httpx", "version": "0.28.1", "vulns": []},
            {"name": "alembic", "skip_reason": "Dependency not found on PyPI and could not be audited"},
        ]
    }
    lines, failed = audit.judge(report, "pypi", strict=False)
    assert not failed
    assert "1 NOT AUDITED" in lines[-1] and "alembic" in lines[-1]
    assert audit.judge(report, "pypi", strict=True)[1]


def test_a_clean_audit_passes() -> None:
    report = {"dependencies": [{"name": "httpx", "version": "0.28.1", "vulns": []}]}
    lines, failed = audit.judge(report, "osv", strict=True)
    assert not failed and lines == ["audit: 1 packages audited, 0 known vulnerabilities"]
