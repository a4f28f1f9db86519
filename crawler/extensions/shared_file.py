"""Files that every crawl process reads and rewrites (notification state, metrics): one writer
at a time, and a reader never sees half a file."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Iterator


def try_hold(path: Path, encoding: str) -> tuple[TextIO | None, str]:
    """Open ``path`` (created if missing) and take an exclusive ``flock`` on it without waiting.

    Return the open handle, positioned at the start, and ``""``; or, when another process holds
    the lock, ``None`` and what the holder wrote in the file (``"unknown"`` when nothing).
    The kernel releases the lock when its holder dies.
    """
    handle = path.open("a+", encoding=encoding)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        return None, holder
    handle.seek(0)
    return handle, ""


@contextmanager
def locked(path: str | Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``PATH.lock`` (waiting for it) while the block runs.

    The lock is a file beside ``path``, not ``path`` itself, which is replaced, not rewritten.
    The kernel releases it when the process dies, so it is never stale.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def replace_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed over it (atomic)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
