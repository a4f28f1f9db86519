"""The spool: articles MongoDB did not take, kept on disk as JSON lines until replayed.

Each run appends to its own ``spool-<time>-<pid>-<random>.jsonl`` and holds an exclusive
``flock`` on it, so a replay in another process never takes a file still being written (the file
is created and locked under a hidden name, then renamed into place). Every batch is written with
one ``write``, then flushed and fsynced; a crash can only leave a torn last line, which
replay quarantines. Replay writes each file through the deduplicating store (so running it twice
changes nothing) and deletes the file once all of it is stored. Records MongoDB refuses (a
validator error) go to ``rejected-*.jsonl`` beside it, which replay leaves alone.

A line replay cannot read (a torn line, bad JSON, nesting too deep, bytes that are not UTF-8, a
wrong shape or field type) goes to ``quarantined-*.jsonl`` beside it, as ``{"file", "line",
"reason", "text"}``, and the rest of the file is replayed: a bad line never stops a replay, nor
the crawl that runs one. A spool file that cannot be opened or read is left in place and logged.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import uuid
from collections import Counter
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from crawler.items import Article
from crawler.store.writer import Record

if TYPE_CHECKING:
    from collections.abc import Iterator

    from crawler.store.writer import ArticleStore

logger = logging.getLogger(__name__)

PENDING = "spool"
REJECTED = "rejected"
QUARANTINED = "quarantined"
_FIELDS: frozenset[str] = frozenset(f.name for f in fields(Article))
_DATE_FIELDS: frozenset[str] = frozenset(
    f.name for f in fields(Article) if "date" in f.metadata["bson"]
)


class UnreadableLine(ValueError):
    """A spool line that is no record: its message says why."""


@dataclass(frozen=True)
class Unreadable:
    """A line of a spool file that could not be read, and why."""

    path: Path
    number: int
    reason: str
    line: bytes

    def entry(self) -> bytes:
        """Return the quarantine file's JSON line for it (the text kept, undecodable bytes
        as backslash escapes)."""
        text = self.line.rstrip(b"\r\n").decode("utf-8", "backslashreplace")
        entry = {"file": str(self.path), "line": self.number, "reason": self.reason, "text": text}
        return json.dumps(entry, ensure_ascii=True).encode("ascii") + b"\n"


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
    """Return the record of one JSON line; raise :class:`UnreadableLine` saying why it is none."""
    try:
        data = json.loads(line)
    except UnicodeDecodeError as error:
        raise UnreadableLine(f"not UTF-8: {error}") from None
    except ValueError as error:
        raise UnreadableLine(f"not JSON: {error}") from None
    except RecursionError:
        raise UnreadableLine("not JSON: nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("item"), dict):
        raise UnreadableLine("not a spool record: no 'item' object")
    item = {name: _field_value(name, value) for name, value in data["item"].items()}
    if not isinstance(item.get("id"), str) or not item["id"]:
        raise UnreadableLine("not a spool record: no 'id'")
    return Record(item=item, seen_at=_aware_time("seen_at", data.get("seen_at")))


def _field_value(name: str, value: Any) -> Any:
    """Return one item field as stored (dates parsed); raise :class:`UnreadableLine` for a field
    the article does not have or a date that is no aware ISO 8601 time.

    Other values are kept as they are: storage escapes or rejects them as it does a crawl's.
    """
    if name not in _FIELDS:
        raise UnreadableLine(f"unknown field {name!r}")
    if name in _DATE_FIELDS and value is not None:
        return _aware_time(name, value)
    return value


def _aware_time(name: str, value: Any) -> datetime:
    """Return an ISO 8601 text as an aware datetime; raise :class:`UnreadableLine` otherwise."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise UnreadableLine(f"field {name!r} is no ISO 8601 time: {value!r:.80}") from None
    if moment.tzinfo is None:
        raise UnreadableLine(f"field {name!r} has no time zone: {value!r:.80}")
    return moment


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
        self.append_lines([encode(record) for record in records])

    def append_lines(self, lines: list[bytes]) -> None:
        """Append JSON ``lines`` (each ending in a newline) durably, as :meth:`append` does."""
        file = self._open()
        data = b"".join(lines)
        start = file.tell()
        try:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        except OSError:
            file.truncate(start)
            raise
        self.count += len(lines)

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


def read_records(file: IO[bytes], path: Path) -> Iterator[Record | Unreadable]:
    """Yield each line of an open spool file as its record, or as :class:`Unreadable`."""
    for number, line in enumerate(file, start=1):
        if not line.strip():
            continue
        try:
            yield decode(line)
        except UnreadableLine as error:
            yield Unreadable(path, number, str(error), line)


def replay(directory: Path, store: ArticleStore, batch_size: int) -> Counter[str]:
    """Write every pending spool file through ``store``, deleting each once stored.

    Files locked by a running crawl are left for later, and so are files that cannot be read
    (counted as ``file_errors``). Unreadable lines are quarantined (counted as ``quarantined``).
    A ``PyMongoError`` escapes, leaving the file in place (what was written already is
    recognised by the next replay).
    """
    counts: Counter[str] = Counter()
    rejected = SpoolFile(directory, REJECTED)
    quarantine = SpoolFile(directory, QUARANTINED)
    try:
        for path in pending_files(directory):
            try:
                counts += _replay_file(path, store, batch_size, rejected, quarantine)
            except OSError as error:
                # A broken disk or file must not stop the crawl that replays: it stays for later.
                logger.error("Cannot replay spool file %s, left in place: %s", path, error)
                counts["file_errors"] += 1
    finally:
        rejected.close()
        quarantine.close()
    return counts


def _replay_file(
    path: Path, store: ArticleStore, batch_size: int, rejected: SpoolFile, quarantine: SpoolFile
) -> Counter[str]:
    """Replay one spool file unless another process holds it; return the outcome counts."""
    counts: Counter[str] = Counter()
    with open(path, "rb") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("Spool file %s is in use by a running crawl; left for later", path)
            return counts
        records = _quarantined(read_records(file, path), quarantine, counts)
        for batch in _chunks(records, batch_size):
            result = store.write(batch)
            counts += result.counts
            if result.rejected:
                rejected.append(result.rejected)
                counts["rejected"] += len(result.rejected)
        path.unlink()
    logger.info("Replayed spool file %s: %s", path, dict(counts))
    return counts


def _quarantined(
    lines: Iterator[Record | Unreadable], quarantine: SpoolFile, counts: Counter[str]
) -> Iterator[Record]:
    """Yield the records of ``lines``; write each unreadable one to ``quarantine``, counted."""
    for line in lines:
        if isinstance(line, Record):
            yield line
            continue
        quarantine.append_lines([line.entry()])
        counts[QUARANTINED] += 1
        logger.warning(
            "Quarantined unreadable line %d of %s (%s) in %s",
            line.number,
            line.path,
            line.reason,
            quarantine.path,
        )


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
