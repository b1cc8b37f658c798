"""The OAuth token pair, kept so that rotation can never lock m2pos out.

R-Series rotates *both* tokens on every refresh and revokes the refresh token used (pos-apis §2,
[V] S21): a pair that is received but not kept is gone for good. So:

* the pair lives in ``token_file`` (JSON, mode 0600), written atomically: a temporary file in the
  same directory, ``fsync``, ``rename``, ``fsync`` of the directory — a crash leaves the old pair or
  the new one, never a torn file;
* a refresh happens under an exclusive ``flock`` on ``<token_file>.lock`` held across the request
  *and* the write: two processes (or two adapters) cannot both spend the same refresh token; the
  second one, once it holds the lock, re-reads the file, sees the pair has changed and uses it;
* the new pair is written before anything else is done with it (first to ``<token_file>.new``, then
  renamed); a process killed after that write and before the rename is followed by one that finds
  the ``.new`` file complete and adopts it.

Only a crash between the POS's answer and the first write — a few microseconds, no request in
between — can still lose a pair; the message then says how to authorise m2pos again.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: float  # wall clock (time.time()), 0 = unknown
    seed: str = ""  # digest of the configured pos.refresh_token this pair descends from

    def __repr__(self) -> str:  # never the tokens themselves
        return f"TokenPair(expires_at={self.expires_at:.0f})"

    def as_json(self) -> str:
        return json.dumps(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_at": self.expires_at,
                "seed": self.seed,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> TokenPair | None:
        try:
            data = json.loads(text)
            pair = cls(
                str(data["access_token"]),
                str(data["refresh_token"]),
                float(data.get("expires_at", 0)),
                str(data.get("seed", "")),
            )
        except (ValueError, KeyError, TypeError):
            return None
        return pair if pair.refresh_token else None


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(path.parent)


class TokenStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.pending = path.with_name(path.name + ".new")
        self.lock_path = path.with_name(path.name + ".lock")

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"

    def read(self) -> TokenPair | None:
        """The kept pair; a complete ``.new`` pair (a crash before its rename) is adopted first."""
        pending = self._read(self.pending)
        if pending is not None:
            write_atomically(self.path, pending.as_json())
            with contextlib.suppress(FileNotFoundError):
                self.pending.unlink()
            return pending
        return self._read(self.path)

    @staticmethod
    def _read(path: Path) -> TokenPair | None:
        try:
            return TokenPair.from_json(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return None

    def save(self, pair: TokenPair) -> None:
        """Keep ``pair`` (call with the lock held): ``.new`` first, then the file itself."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.pending, pair.as_json())
        write_atomically(self.path, pair.as_json())
        with contextlib.suppress(FileNotFoundError):
            self.pending.unlink()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """The exclusive file lock (blocking: run it in a thread)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class AsyncFileLock:
    """``TokenStore.locked`` for async code: taken in a worker thread, released on exit."""

    def __init__(self, store: TokenStore) -> None:
        self._store = store
        self._context: contextlib.AbstractContextManager[None] | None = None

    async def __aenter__(self) -> None:
        context = self._store.locked()
        await asyncio.to_thread(context.__enter__)
        self._context = context

    async def __aexit__(self, *exc: object) -> None:
        if self._context is not None:
            self._context.__exit__(None, None, None)
            self._context = None
