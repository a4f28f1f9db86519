"""The spool file: durable JSON lines, torn lines tolerated, locked while a run writes it."""

from __future__ import annotations

import fcntl
import json
import logging
import re
from collections import Counter
from typing import IO, TYPE_CHECKING, Any

import pytest

from crawler.store import spool
from crawler.store.writer import Record, WriteResult
from tests.conftest import make_crawler
from tests.storage_support import (
    FETCHED,
    PUBLISHED,
    article,
    mongo_client,
    open_pipeline,
    storage_settings,
    store_stats,
)

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


def test_replay_quarantines_a_torn_last_line_and_deletes_the_file(
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
    assert counts == {"inserted": 2, "quarantined": 1}
    assert [[r.item["id"] for r in batch] for batch in store.batches] == [
        ["eastmoney:202611260000000001"],
        ["eastmoney:202611260000000002"],
    ]
    assert "Quarantined unreadable line 3" in caplog.text
    assert not file.path.exists()
    (entry,) = quarantine_entries(tmp_path)
    assert entry["line"] == 3
    assert entry["text"].encode() == spool.encode(record(3))[:57]


#: Lines a spool may hold after a bug, a disk fault or a hand edit, and the reason each is refused.
BAD_LINES: dict[str, tuple[bytes, str]] = {
    "too-deep": (b"[" * 100_000, "nested too deeply"),
    "not-json": (b'{"seen_at": "2026-11-26T06:00:00+00:00", "item": {', "not JSON"),
    "not-utf8": (b'{"seen_at": "\xff\xfe", "item": {}}', "not UTF-8"),
    "a-list": (b"[1, 2, 3]", "no 'item' object"),
    "item-not-object": (b'{"seen_at": "2026-11-26T06:00:00+00:00", "item": "x"}', "'item'"),
    "no-id": (b'{"seen_at": "2026-11-26T06:00:00+00:00", "item": {"title": "t"}}', "no 'id'"),
    "date-a-number": (
        b'{"seen_at": "2026-11-26T06:00:00+00:00", "item": {"id": "a:1", "published_at": 5}}',
        "'published_at' is no ISO 8601 time",
    ),
    "naive-seen-at": (b'{"seen_at": "2026-11-26T06:00:00", "item": {"id": "a:1"}}', "time zone"),
    "seen-at-missing": (b'{"item": {"id": "a:1"}}', "'seen_at' is no ISO 8601 time"),
    "unknown-field": (
        b'{"seen_at": "2026-11-26T06:00:00+00:00", "item": {"id": "a:1", "x": 1}}',
        "unknown field 'x'",
    ),
}


def quarantine_entries(directory: Path) -> list[dict[str, Any]]:
    """Return the entries of every quarantine file in ``directory``."""
    return [
        json.loads(line)
        for path in sorted(directory.glob("quarantined-*.jsonl"))
        for line in path.read_bytes().splitlines()
    ]


def test_replay_stores_every_good_record_and_quarantines_each_bad_line(tmp_path: Path) -> None:
    good = [spool.encode(record(number)) for number in range(1, len(BAD_LINES) + 2)]
    lines = [good[0]]
    for line, (bad, _) in zip(good[1:], BAD_LINES.values(), strict=True):
        lines += [bad + b"\n", line]  # each bad line between good ones
    path = tmp_path / "spool-20261126T060000000000Z-1-abcdef12.jsonl"
    path.write_bytes(b"".join(lines))
    store = FakeStore()
    counts = spool.replay(tmp_path, store, batch_size=4)  # type: ignore[arg-type]
    assert counts == {"inserted": len(good), "quarantined": len(BAD_LINES)}
    stored = [r.item["id"] for batch in store.batches for r in batch]
    assert stored == [f"eastmoney:2026112600000{n:05d}" for n in range(1, len(good) + 1)]
    entries = quarantine_entries(tmp_path)
    assert [e["line"] for e in entries] == list(range(2, 2 * len(BAD_LINES) + 1, 2))
    assert {e["file"] for e in entries} == {str(path)}
    for entry, (name, (bad, reason)) in zip(entries, BAD_LINES.items(), strict=True):
        assert reason in entry["reason"], name
        assert entry["text"] == bad.decode("utf-8", "backslashreplace"), name
    assert not path.exists()
    assert spool.pending_files(tmp_path) == []  # a second replay finds nothing to do


def test_a_spool_file_that_cannot_be_read_is_left_and_the_rest_replayed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "spool-20261126T000000000000Z-1-00000000.jsonl").mkdir()  # open() fails
    file = spool.SpoolFile(tmp_path)
    file.append([record(1)])
    file.close()
    store = FakeStore()
    with caplog.at_level(logging.ERROR):
        counts = spool.replay(tmp_path, store, batch_size=10)  # type: ignore[arg-type]
    assert counts == {"inserted": 1, "file_errors": 1}
    assert "Cannot replay spool file" in caplog.text


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


@pytest.mark.parametrize(("line", "reason"), BAD_LINES.values(), ids=BAD_LINES.keys())
def test_decode_refuses_foreign_lines_saying_why(line: bytes, reason: str) -> None:
    with pytest.raises(spool.UnreadableLine, match=re.escape(reason)):
        spool.decode(line)


def test_a_crawl_opens_storage_over_a_bad_spool_and_counts_the_quarantine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "spool"
    directory.mkdir()
    good = [
        spool.encode(Record(item=dict(vars(article(n, body_text=text))), seen_at=FETCHED))
        for n, text in ((1, "第一篇" * 40), (2, "另一篇完全不同的报道" * 12))
    ]
    (directory / "spool-20261126T060000000000Z-1-abcdef12.jsonl").write_bytes(
        good[0] + b"[" * 100_000 + b"\n" + good[1]
    )
    client = mongo_client(monkeypatch)
    crawler = make_crawler(**storage_settings(client, directory))
    pipeline = open_pipeline(crawler)  # before the fix: RecursionError, the crawl aborted
    pipeline.close_spider()
    assert store_stats(crawler) == {"replay/inserted": 2, "replay/quarantined": 1}
    assert client["finews"]["articles"].count_documents({}) == 2
    assert [e["reason"] for e in quarantine_entries(directory)] == ["not JSON: nested too deeply"]
