"""Nothing lost: MongoDB down at start, a write failing mid-batch, replay by crawl and command."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest
from pymongo.errors import AutoReconnect

from crawler.store import spool
from tests.conftest import make_crawler
from tests.storage_support import (
    article,
    mongo_client,
    open_pipeline,
    storage_settings,
    store_stats,
)

if TYPE_CHECKING:
    from pathlib import Path

    import mongomock

from crawler.commands.spool_replay import Command

DOWN = {"NEWS_MONGO_URI": "mongodb://finews:s3cret@127.0.0.1:1/", "NEWS_MONGO_TIMEOUT_MS": 50}


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> mongomock.MongoClient:
    return mongo_client(monkeypatch)


def items() -> list[Any]:
    """Return six articles: four stories, one exact copy, one re-sighting."""
    bodies = ["".join(chr(0x4E00 + n * 131 + k) for k in range(80)) for n in range(4)]
    stories = [article(n + 1, body_text=body) for n, body in enumerate(bodies)]
    return [*stories, article(9, body_text=bodies[0]), article(2, body_text=bodies[1])]


def crawl(settings: dict[str, Any], batch: list[Any]) -> Any:
    crawler = make_crawler(**settings)
    pipeline = open_pipeline(crawler)
    for item in batch:
        pipeline.process_item(item)
    pipeline.close_spider()
    return crawler


def assert_stored_once(client: Any) -> None:
    collection = client["finews"]["articles"]
    docs = {doc["_id"]: doc for doc in collection.find()}
    assert sorted(docs) == [f"eastmoney:20261126000000000{n}" for n in (1, 2, 3, 4)]
    assert [s["id"] for s in docs["eastmoney:202611260000000001"]["sightings"]] == [
        "eastmoney:202611260000000001",
        "eastmoney:202611260000000009",
    ]
    assert all(doc["revision"] == 1 for doc in docs.values())
    assert len(docs["eastmoney:202611260000000002"]["sightings"]) == 1


def test_down_at_start_spools_and_the_next_crawl_replays(
    client: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool_dir = tmp_path / "spool"
    with caplog.at_level(logging.WARNING):
        down = crawl(
            {
                **storage_settings(client, spool_dir),
                **DOWN,
                "NEWS_MONGO_CLIENT_FACTORY": "pymongo.MongoClient",
            },
            items(),
        )
    assert store_stats(down) == {"spooled": 6, "waiting": 6}
    assert "MongoDB is unreachable at mongodb://finews:***@127.0.0.1:1/" in caplog.text
    assert "scrapy spool-replay" in caplog.text
    assert "s3cret" not in caplog.text
    assert len(spool.pending_files(spool_dir)) == 1

    up = crawl(storage_settings(client, spool_dir), [article(3, body_text=items()[2].body_text)])
    assert store_stats(up) == {
        "replay/inserted": 4,
        "replay/duplicate_exact": 1,
        "replay/unchanged": 1,
        "unchanged": 1,
    }
    assert spool.pending_files(spool_dir) == []
    assert_stored_once(client)


def test_a_write_failing_mid_batch_loses_nothing_and_doubles_nothing(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    collection_type = type(client["finews"]["articles"])
    real_bulk_write = collection_type.bulk_write
    failures = iter([True])

    def flaky(self: Any, ops: list[Any], ordered: bool = True) -> Any:
        if next(failures, False):
            real_bulk_write(self, ops[: len(ops) // 2], ordered=ordered)
            raise AutoReconnect("connection reset by peer")
        return real_bulk_write(self, ops, ordered=ordered)

    monkeypatch.setattr(collection_type, "bulk_write", flaky)
    crawler = crawl(storage_settings(client, tmp_path, NEWS_MONGO_BATCH_SIZE=3), items())
    stats = store_stats(crawler)
    # The first batch failed half-written and the rest of the run was spooled; at close MongoDB
    # answered again and the spool was replayed: what was written is recognised, not doubled.
    assert stats["spooled"] == 6
    assert stats["replay/inserted"] + stats["replay/unchanged"] == 5
    assert stats["replay/duplicate_exact"] == 1
    assert spool.pending_files(tmp_path) == []
    assert_stored_once(client)


def test_replay_command_is_idempotent(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = storage_settings(client, tmp_path)
    crawl({**settings, **DOWN, "NEWS_MONGO_CLIENT_FACTORY": "pymongo.MongoClient"}, items())
    copy = spool.SpoolFile(tmp_path)  # the same spool twice, as if a replay had been cut short
    copy.append(
        [spool.decode(line) for line in spool.pending_files(tmp_path)[0].read_bytes().splitlines()]
    )
    copy.close()

    command = Command()
    command.settings = make_crawler(**settings).settings
    command.run([], None)  # type: ignore[arg-type]
    assert "Replayed 2 of 2 spool files" in capsys.readouterr().out
    assert_stored_once(client)
    command.run([], None)  # type: ignore[arg-type]
    assert "Nothing to replay" in capsys.readouterr().out
    assert_stored_once(client)


def test_replay_command_reports_mongodb_down(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = {**DOWN, "NEWS_SPOOL_DIR": str(tmp_path)}
    crawl({**settings, "NEWS_MONGO_FLUSH_SECONDS": 0}, [article(1)])
    command = Command()
    command.settings = make_crawler(**settings).settings
    with caplog.at_level(logging.ERROR):
        command.run([], None)  # type: ignore[arg-type]
    assert command.exitcode == 1
    assert "s3cret" not in caplog.text
    assert len(spool.pending_files(tmp_path)) == 1
