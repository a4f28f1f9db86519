"""The spool file: durable JSON lines, torn lines tolerated, locked while a run writes it."""

from __future__ import annotations

import fcntl
import logging
from collections import Counter
from typing import IO, TYPE_CHECKING, Any

import pytest

from crawler.store import spool
from crawler.store.writer import Record, WriteResult
from tests.storage_support import FETCHED, PUBLISHED, article

if TYPE_CHECKING:
    from pathlib import Path


class FakeStore:
    """Collect written batches."""

    def __init__(self) -> None:
        self.batches: list[list[Record]] = []

    def write(self, records: list[Record]) -> WriteResult:
        self.batches.append(records)
        return WriteResult(counts=Counter(inserted=len(records)))


def record(number: int) -> Record:
    return Record(item=dict(vars(article(number))), seen_at=FETCHED)


def test_a_record_round_trips_with_its_datetimes() -> None:
    original = record(1)
    decoded = spool.decode(spool.encode(original))
    assert decoded == original
    assert decoded.item["published_at"] == PUBLISHED
    assert decoded.item["authors"] == []
    assert spool.encode(original).endswith(b"\n")
    assert "国家统计局".encode() in spool.encode(original)


def test_append_writes_lines_and_fsyncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    monkeypatch.setattr(spool.os, "fsync", synced.append)
    file = spool.SpoolFile(tmp_path / "spool")
    file.append([record(1), record(2)])
    file.append([record(3)])
    file.close()
    assert len(synced) == 2
    assert file.path is not None
    assert file.path.name.startswith("spool-")
    assert len(file.path.read_bytes().splitlines()) == 3
    assert file.count == 3
    assert spool.pending_files(tmp_path / "spool") == [file.path]


def test_a_failed_write_leaves_no_partial_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = spool.SpoolFile(tmp_path)
    file.append([record(1)])

    def full_disk(_: int) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(spool.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        file.append([record(2), record(3)])
    file.close()
    assert file.path is not None
    assert len(file.path.read_bytes().splitlines()) == 1


def test_replay_skips_a_torn_last_line_and_deletes_the_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    file = spool.SpoolFile(tmp_path)
    file.append([record(1), record(2)])
    file.close()
    assert file.path is not None
    with file.path.open("ab") as raw:
        raw.write(spool.encode(record(3))[:57])  # the crash came mid-line
    store = FakeStore()
    with caplog.at_level(logging.WARNING):
        counts = spool.replay(tmp_path, store, batch_size=1)  # type: ignore[arg-type]
    assert counts == {"inserted": 2}
    assert [[r.item["id"] for r in batch] for batch in store.batches] == [
        ["eastmoney:202611260000000001"],
        ["eastmoney:202611260000000002"],
    ]
    assert "Skipping unreadable line 3" in caplog.text
    assert not file.path.exists()


def test_replay_leaves_a_file_a_running_crawl_holds(tmp_path: Path) -> None:
    live = spool.SpoolFile(tmp_path)
    live.append([record(1)])
    store = FakeStore()
    assert spool.replay(tmp_path, store, batch_size=10) == Counter()  # type: ignore[arg-type]
    assert store.batches == []
    assert live.path is not None
    assert live.path.exists()
    live.close()
    assert spool.replay(tmp_path, store, batch_size=10) == {"inserted": 1}  # type: ignore[arg-type]


def test_a_replay_never_locks_a_new_spool_file_before_its_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_flock = fcntl.flock
    taken: list[IO[bytes]] = []

    def replay_first(file: Any, operation: int) -> None:
        # Another process replays the spool just as the writer locks its new file.
        for path in spool.pending_files(tmp_path):
            other = open(path, "rb")  # held while it replays, as a replay holds it
            try:
                real_flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                other.close()
            else:
                taken.append(other)
        real_flock(file, operation)

    monkeypatch.setattr(spool.fcntl, "flock", replay_first)
    live = spool.SpoolFile(tmp_path)
    try:
        live.append([record(1)])  # before the fix: BlockingIOError, the batch lost
    finally:
        for other in taken:
            other.close()
    assert taken == []
    assert live.count == 1
    assert spool.pending_files(tmp_path) == [live.path]  # the hidden name is gone
    monkeypatch.undo()
    store = FakeStore()
    assert spool.replay(tmp_path, store, batch_size=10) == Counter()  # type: ignore[arg-type]
    live.close()
    assert spool.replay(tmp_path, store, batch_size=10) == {"inserted": 1}  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_rejected_files_are_not_replayed(tmp_path: Path) -> None:
    rejected = spool.SpoolFile(tmp_path, spool.REJECTED)
    rejected.append([record(1)])
    rejected.close()
    assert spool.pending_files(tmp_path) == []
    assert spool.pending_files(tmp_path / "missing") == []


def test_decode_refuses_foreign_lines() -> None:
    for line in (b"{}", b"[1]", b'{"item": {}}', b"not json"):
        with pytest.raises((ValueError, KeyError, TypeError)):
            spool.decode(line)
