"""The spool: articles MongoDB did not take, kept on disk as JSON lines until replayed.

Each run appends to its own ``spool-<time>-<pid>-<random>.jsonl`` and holds an exclusive
``flock`` on it, so a replay in another process never takes a file still being written (the file
is created and locked under a hidden name, then renamed into place). Every batch is written with
one ``write``, then flushed and fsynced; a crash can only leave a torn last line, which
replay skips with a warning. Replay writes each file through the deduplicating store (so running
it twice changes nothing) and deletes the file once all of it is stored. Records MongoDB refuses
(a validator error) go to ``rejected-*.jsonl`` beside it, which replay leaves alone.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import uuid
from collections import Counter
from dataclasses import fields
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING

from crawler.items import Article
from crawler.store.writer import Record

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from crawler.store.writer import ArticleStore

logger = logging.getLogger(__name__)

PENDING = "spool"
REJECTED = "rejected"
_DATE_FIELDS: frozenset[str] = frozenset(
    f.name for f in fields(Article) if "date" in f.metadata["bson"]
)


def encode(record: Record) -> bytes:
    """Return one record as a JSON line (datetimes in ISO 8601).

    Text UTF-8 cannot encode (a lone surrogate) is kept as JSON ``\\u`` escapes, so the line is
    still valid UTF-8 and decodes to the same record.
    """
    item = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in record.item.items()}
    line = {"seen_at": record.seen_at.isoformat(), "item": item}
    try:
        data = json.dumps(line, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        data = json.dumps(line, ensure_ascii=True, default=str).encode("ascii")
    return data + b"\n"


def decode(line: bytes) -> Record:
    """Return the record of one JSON line; raise ``ValueError`` for a torn or foreign line."""
    data = json.loads(line)
    item = dict(data["item"])
    for name in _DATE_FIELDS & item.keys():
        if isinstance(item[name], str):
            item[name] = datetime.fromisoformat(item[name])
    return Record(item=item, seen_at=datetime.fromisoformat(data["seen_at"]))


class SpoolFile:
    """One run's append-only spool file, created on the first batch and locked while open."""

    def __init__(self, directory: Path, kind: str = PENDING) -> None:
        self.directory = directory
        self.kind = kind
        self.path: Path | None = None
        self._file: IO[bytes] | None = None
        self.count = 0

    def append(self, records: list[Record]) -> None:
        """Append ``records`` durably (flush and fsync); a failed write leaves no partial line."""
        file = self._open()
        data = b"".join(encode(record) for record in records)
        start = file.tell()
        try:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        except OSError:
            file.truncate(start)
            raise
        self.count += len(records)

    def _open(self) -> IO[bytes]:
        """Return the open file, creating and locking it on first use.

        It is created (exclusively) and locked under a hidden name that replay does not list,
        then renamed into place: a replay can never lock it first.
        """
        if self._file is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            name = f"{self.kind}-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
            hidden = self.directory / f".{name}.new"
            file = open(hidden, "xb")
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.path = hidden.rename(self.directory / name)
            except BaseException:
                file.close()
                hidden.unlink(missing_ok=True)
                raise
            self._file = file
        return self._file

    def close(self) -> None:
        """Close (and unlock) the file."""
        if self._file is not None:
            self._file.close()
            self._file = None


def pending_files(directory: Path) -> list[Path]:
    """Return the spool files waiting for replay, oldest first."""
    return sorted(directory.glob(f"{PENDING}-*.jsonl")) if directory.is_dir() else []


def read_records(file: IO[bytes], path: Path) -> Iterator[Record]:
    """Yield the records of an open spool file, skipping (with a warning) torn or foreign lines."""
    for number, line in enumerate(file, start=1):
        if not line.strip():
            continue
        try:
            yield decode(line)
        except (ValueError, KeyError, TypeError) as error:
            logger.warning("Skipping unreadable line %d of %s: %s", number, path, error)


def replay(directory: Path, store: ArticleStore, batch_size: int) -> Counter[str]:
    """Write every pending spool file through ``store``, deleting each once stored.

    Files locked by a running crawl are left for later. A ``PyMongoError`` escapes, leaving the
    file in place (what was written already is recognised by the next replay).
    """
    counts: Counter[str] = Counter()
    rejected = SpoolFile(directory, REJECTED)
    try:
        for path in pending_files(directory):
            counts += _replay_file(path, store, batch_size, rejected)
    finally:
        rejected.close()
    return counts


def _replay_file(
    path: Path, store: ArticleStore, batch_size: int, rejected: SpoolFile
) -> Counter[str]:
    """Replay one spool file unless another process holds it; return the outcome counts."""
    counts: Counter[str] = Counter()
    with open(path, "rb") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("Spool file %s is in use by a running crawl; left for later", path)
            return counts
        for batch in _chunks(read_records(file, path), batch_size):
            result = store.write(batch)
            counts += result.counts
            if result.rejected:
                rejected.append(result.rejected)
                counts["rejected"] += len(result.rejected)
        path.unlink()
    logger.info("Replayed spool file %s: %s", path, dict(counts))
    return counts


def _chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    """Yield ``records`` in lists of at most ``size``."""
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
