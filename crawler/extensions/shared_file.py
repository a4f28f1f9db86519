"""Files that every crawl process reads and rewrites (notification state, metrics): one writer
at a time, and a reader never sees half a file."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


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
