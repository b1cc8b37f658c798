"""Dependency audit (``make audit``, part of ``make test``): every pin of requirements.lock checked
against the PyPI vulnerability data by pip-audit.

pip-audit says "No known vulnerabilities found" even when it could audit nothing (every package
skipped because the vulnerability service cannot be reached, as on a machine that sees only a
package mirror). This wrapper tells the two apart: a known vulnerability fails the run; packages
that could not be audited are listed as NOT AUDITED, and fail the run only with ``--strict``
(use it where PyPI's JSON API or OSV is reachable)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/audit.py")
    parser.add_argument("--strict", action="store_true", help="fail when any package was not audited")
    parser.add_argument("--service", default="pypi", choices=["pypi", "osv"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "audit.json"
        command = [
            str(Path(sys.executable).parent / "pip-audit"),
            "--requirement",
            str(ROOT / "requirements.lock"),
            "--no-deps",  # the lock pins every package already
            "--progress-spinner=off",
            "--vulnerability-service",
            args.service,
            "--format=json",
            f"--output={report_path}",
        ]
        finished = subprocess.run(command, capture_output=True, text=True, check=False)
        if not report_path.exists():
            print(finished.stderr, file=sys.stderr)
            print(f"audit: pip-audit failed (exit {finished.returncode}) before writing a report")
            return 1
        report = json.loads(report_path.read_text())
    lines, failed = judge(report, args.service, strict=args.strict)
    print("\n".join(lines))
    return 1 if failed else 0


def judge(report: dict[str, Any], service: str, *, strict: bool) -> tuple[list[str], bool]:
    """The lines to print for a pip-audit JSON report, and whether the audit fails."""
    audited, skipped, vulnerable = 0, [], []
    for dependency in report["dependencies"]:
        if "skip_reason" in dependency:
            skipped.append(dependency["name"])
            continue
        audited += 1
        for vulnerability in dependency.get("vulns", []):
            fixed = ", ".join(vulnerability.get("fix_versions", [])) or "no fixed release yet"
            vulnerable.append(
                f"{dependency['name']} {dependency['version']}: {vulnerability['id']} (fixed in {fixed})"
            )
    lines = [f"audit: VULNERABLE {line}" for line in vulnerable]
    summary = f"audit: {audited} packages audited, {len(vulnerable)} known vulnerabilities"
    if skipped:
        more = ", …" if len(skipped) > 5 else ""
        summary += (
            f"; {len(skipped)} NOT AUDITED (the {service} vulnerability service did not answer"
            f" for them: {', '.join(skipped[:5])}{more})"
        )
    lines.append(summary)
    if vulnerable:
        lines.append("audit: raise the pins in pyproject.toml, then `make lock`")
    return lines, bool(vulnerable) or (bool(skipped) and strict)


if __name__ == "__main__":
    sys.exit(main())
