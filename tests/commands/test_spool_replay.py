"""``scrapy spool-replay`` shows its progress on long replays: records done of total, rate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crawler.commands import spool_replay
from crawler.commands.spool_replay import Command, Progress, count_lines
from crawler.store import spool
from tests.conftest import make_crawler
from tests.storage_support import article, mongo_client, open_pipeline, storage_settings

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

DOWN = {"NEWS_MONGO_URI": "mongodb://127.0.0.1:1/", "NEWS_MONGO_TIMEOUT_MS": 50,
        "NEWS_MONGO_CLIENT_FACTORY": "pymongo.MongoClient", "NEWS_MONGO_FLUSH_SECONDS": 0}  # fmt: skip


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_lines_come_once_per_interval_with_the_rate() -> None:
    clock = Clock()
    progress = Progress(50_000, clock=clock, interval=5.0)
    clock.now += 2
    assert progress.advance(1000) is None  # a short replay shows nothing
    clock.now += 4
    assert progress.advance(1000) == "Replayed 2,000 of 50,000 records (4%), 333 records/s"
    clock.now += 1
    assert progress.advance(1000) is None
    clock.now += 5
    assert progress.advance(10_000) == "Replayed 13,000 of 50,000 records (26%), 1,083 records/s"
    assert progress.shown


def test_count_lines(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(b'{"a": 1}\n{"a": 2}\n')
    (tmp_path / "b.jsonl").write_bytes(b'{"a": 1}\n{"torn')
    (tmp_path / "c.jsonl").write_bytes(b"")
    assert count_lines(sorted(tmp_path.iterdir())) == 4


def test_replay_prints_progress_to_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client = mongo_client(monkeypatch)
    settings: dict[str, Any] = storage_settings(client, tmp_path, NEWS_MONGO_BATCH_SIZE=2)
    crawler = make_crawler(**(settings | DOWN))  # MongoDB down: all six articles spooled
    pipeline = open_pipeline(crawler)
    for number in range(1, 7):
        body = "".join(chr(0x4E00 + number * 131 + k) for k in range(80))  # six unlike stories
        pipeline.process_item(article(number, body_text=body))
    pipeline.close_spider()
    assert count_lines(spool.pending_files(tmp_path)) == 6

    monkeypatch.setattr(spool_replay, "PROGRESS_SECONDS", 0.0)  # every batch is "long"
    command = Command()
    command.settings = make_crawler(**settings).settings
    command.run([], None)  # type: ignore[arg-type]
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert [line.split(" records")[0] for line in lines] == [
        "Replayed 2 of 6",
        "Replayed 4 of 6",
        "Replayed 6 of 6",
        "Replayed 6 of 6",  # the last word, after the replay
    ]
    assert all(line.endswith(" records/s") for line in lines)
    assert "Replayed 1 of 1 spool files: " in out
    assert client["finews"]["articles"].count_documents({}) == 6
