"""Named points between the steps of a transfer, where the crash tests kill the process.

``M2POS_CRASH_AT=<point>`` makes the process exit abruptly (no cleanup, like ``kill -9``) the
first time it reaches that point; nothing happens otherwise. The points are the moments where a
crash is most dangerous: after an intent is written, and after an external write succeeded but
before the ledger recorded it.
"""

from __future__ import annotations

import os

POINTS = (
    "before_pos_create",
    "after_pos_create",
    "before_invoice",
    "after_invoice",
    "after_pos_cancel",
    "after_pos_return",
    "before_cursor",
)

EXIT_CODE = 86


def crash_point(name: str) -> None:
    if os.environ.get("M2POS_CRASH_AT") == name:
        os._exit(EXIT_CODE)
