"""The sandbox's clock: real UTC time shifted by a settable offset, to emulate a skewed server."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import formatdate

MAGENTO_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class Clock:
    def __init__(self, offset_seconds: float = 0.0) -> None:
        self.offset_seconds = offset_seconds

    def timestamp(self) -> float:
        return time.time() + self.offset_seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def magento_now(self) -> str:
        """Magento stores and returns UTC as ``YYYY-MM-DD HH:MM:SS`` with no offset."""
        return format_magento(self.now())

    def http_date(self) -> str:
        return formatdate(self.timestamp(), usegmt=True)


def format_magento(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(MAGENTO_TIME_FORMAT)


def parse_magento(text: str) -> datetime:
    return datetime.strptime(text, MAGENTO_TIME_FORMAT).replace(tzinfo=UTC)


def add_seconds(text: str, seconds: float) -> str:
    return format_magento(parse_magento(text) + timedelta(seconds=seconds))
