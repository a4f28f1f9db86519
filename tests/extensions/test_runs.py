"""Run records: built from Scrapy's stats, summarised in one line, written through the sinks."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from pymongo.errors import ServerSelectionTimeoutError
from scrapy import Spider
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler

from crawler.distributed import worker_lost
from crawler.extensions.progress import Progress, format_progress, measure
from crawler.extensions.runs import (
    LOST_PROBLEM,
    FileRunSink,
    MongoRunSink,
    RunRecorder,
    build_record,
    describe_error,
    finish_problems,
    summary_line,
)
from crawler.store.mongo import StorageConfig, acquire_client
from tests.conftest import make_crawler

if TYPE_CHECKING:
    from pathlib import Path

    from scrapy.crawler import Crawler

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
END = datetime(2026, 1, 5, 8, 2, 30, tzinfo=UTC)
STATS: dict[str, Any] = {
    "start_time": START,
    "finish_time": END,
    "elapsed_time_seconds": 150.0,
    "finish_reason": "finished",
    "downloader/request_count": 42,
    "downloader/response_status_count/200": 40,
    "downloader/response_status_count/404": 2,
    "response_received_count": 42,
    "item_scraped_count": 30,
    "item_dropped_count": 5,
    "news/store/inserted": 25,
    "news/store/updated": 3,
    "news/store/unchanged": 2,
    "news/store/duplicate_exact": 1,
    "news/store/duplicate_near": 1,
    "news/store/spooled": 0,
    "news/dropped/missing_title": 2,
    "news/dropped/empty_body": 3,
    "log_count/ERROR": 2,
    "downloader/exception_count": 1,
    "spider_exceptions/count": 1,
    "spider_exceptions/KeyError": 1,
    "retry/max_reached": 1,
    "news/coverage/items": 35,
    "news/coverage/title": 33,
    "news/coverage/publisher": 35,
}


def test_build_record_takes_its_figures_from_the_stats() -> None:
    record = build_record(STATS, run_id="r1", spider="eastmoney", coverage_fields=["title",
                          "publisher"], batch="b1", jobdir="jobs/eastmoney")  # fmt: skip
    assert record["_id"] == "r1"
    assert (record["spider"], record["batch"], record["jobdir"]) == (
        "eastmoney",
        "b1",
        "jobs/eastmoney",
    )
    assert (record["started_at"], record["finished_at"], record["elapsed_s"]) == (START, END, 150.0)
    assert record["finish_reason"] == "finished"
    assert record["requests"] == 42
    assert record["responses"] == {"received": 42, "by_status": {"200": 40, "404": 2}}
    assert record["items"] == {
        "scraped": 30, "stored": 25, "updated": 3, "unchanged": 2,
        "duplicate": {"exact": 1, "near": 1}, "dropped": 5,
        "dropped_by_reason": {"empty_body": 3, "missing_title": 2}, "spooled": 0,
    }  # fmt: skip
    assert record["errors"] == {
        "count": 2, "ratio": 2 / 42, "download_exceptions": 1,
        "spider_exceptions": {"KeyError": 1, "count": 1}, "retries_given_up": 1,
    }  # fmt: skip
    assert record["coverage"] == {"title": 33 / 35, "publisher": 1.0}


def test_summary_line() -> None:
    record = build_record(STATS, run_id="r1", spider="eastmoney", coverage_fields=[])
    record["status"] = "failed"
    record["problems"] = ["coverage of title 94% under 100%"]
    assert summary_line(record) == (
        "eastmoney: failed (finished, 150.0 s): 42 requests (200: 40, 404: 2), 30 items scraped, "
        "25 stored, 3 updated, 2 duplicate, 5 dropped (empty_body: 3, missing_title: 2), "
        "0 spooled, 2 errors | coverage of title 94% under 100%"
    )


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("finished", []),
        ("shutdown", ["finish reason 'shutdown' is not clean"]),
        ("closespider_itemcount", ["finish reason 'closespider_itemcount' is not clean"]),
    ],
)
def test_finish_problems(reason: str, expected: list[str]) -> None:
    assert finish_problems(reason, ["finished"]) == expected


class NewsSpider(Spider):
    name = "news"


def recorded_crawler(**settings: Any) -> tuple[Crawler, RunRecorder]:
    """Return a crawler of a spider named ``news`` and its recorder, writing to mongomock."""
    settings_dict = get_project_settings().copy_to_dict()
    settings_dict.update(
        {
            "NEWS_MONGO_URI": "mongodb://runs.test",
            "NEWS_MONGO_CLIENT_FACTORY": "mongomock.MongoClient",
            "NEWS_HEALTH_COVERAGE_MIN_ITEMS": 1,
            **settings,
        }
    )
    crawler = get_crawler(NewsSpider, settings_dict)
    crawler.stats.open_spider()
    crawler.spider = NewsSpider()
    return crawler, RunRecorder.from_crawler(crawler)


def test_recorder_writes_a_running_then_a_final_record_to_crawl_runs() -> None:
    crawler, recorder = recorded_crawler(NEWS_RUN_BATCH="b7")
    assert recorder.sinks is None  # no client before the spider opens
    crawler.stats.set_value("start_time", START)
    recorder.spider_opened()
    (sink,) = recorder.sinks
    assert sink.collection.name == "crawl_runs"
    (opened,) = sink.collection.find()
    assert opened["status"] == "running"
    assert opened["batch"] == "b7"

    good = {"title": "标题", "published_at": END, "body_text": "正文", "publisher": "新华社"}
    for item in (good, good, {**good, "publisher": None}):
        recorder.item_seen(item)
    crawler.stats.set_value("item_scraped_count", 3)
    crawler.stats.set_value("downloader/request_count", 4)
    crawler.stats.set_value("finish_time", END)
    recorder.spider_closed("finished")

    (final,) = sink.collection.find()
    assert final["_id"] == recorder.run_id == crawler.stats.get_value("news/run/id")
    assert final["status"] == "failed" == crawler.stats.get_value("news/run/status")
    assert final["problems"] == ["coverage of publisher 67% under 95%"]
    assert final["coverage"]["publisher"] == pytest.approx(2 / 3)
    assert final["items"]["scraped"] == 3
    assert final["finished_at"].replace(tzinfo=UTC) == END


def test_spider_can_say_it_expects_no_items() -> None:
    crawler, recorder = recorded_crawler(NEWS_RUNS_MONGO=False)
    crawler.spider.expects_items = False  # type: ignore[attr-defined]
    recorder.spider_opened()
    recorder.spider_closed("finished")
    assert recorder.record is not None
    assert recorder.record["status"] == "ok"


def test_a_failing_sink_is_logged_and_dropped_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def opened(self, record: dict[str, Any]) -> None:
            raise ConnectionError("mongo is down")

        def closed(self, record: dict[str, Any]) -> None:
            raise AssertionError("not called once dropped")

    caplog.set_level(logging.INFO, logger="crawler.extensions.runs")
    crawler, recorder = recorded_crawler(NEWS_RUNS_MONGO=False, NEWS_HEALTH_EXPECT_ITEMS=False)
    recorder.sinks = [Broken()]
    recorder.spider_opened()
    recorder.spider_closed("finished")
    assert recorder.sinks == []
    assert "Could not write the run record to Broken" in caplog.text
    assert "Run summary: news: ok (finished" in caplog.text


def test_an_srv_uri_dns_cannot_resolve_leaves_the_record_to_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Building an mongodb+srv:// client resolves its host: here DNS fails at once (.invalid).
    uri = "mongodb+srv://finews:s3cret@cluster.nonexistent.invalid/"
    _, recorder = recorded_crawler(
        NEWS_MONGO_URI=uri, NEWS_MONGO_CLIENT_FACTORY="pymongo.MongoClient"
    )
    with caplog.at_level(logging.INFO):
        recorder.spider_opened()  # before the fix: ConfigurationError out of the signal handler
        recorder.spider_closed("finished")
    assert recorder.sinks == []
    assert recorder.record is not None
    assert "this run is recorded only in the log" in caplog.text
    assert "Run summary: news" in caplog.text
    assert "s3cret" not in caplog.text


def test_file_sink_appends_the_final_record_only(tmp_path: Path) -> None:
    sink = FileRunSink(tmp_path / "runs" / "runs.jsonl")
    record = {"_id": "r1", "started_at": START, "status": "ok"}
    sink.opened(record)
    assert not (tmp_path / "runs").exists()
    sink.closed(record)
    sink.closed({**record, "_id": "r2"})
    lines = [json.loads(line) for line in sink.path.read_text().splitlines()]
    assert [line["_id"] for line in lines] == ["r1", "r2"]
    assert lines[0]["started_at"] == "2026-01-05T08:00:00+00:00"


def test_progress_line() -> None:
    progress = measure({"response_received_count": 130, "item_scraped_count": 90}, (100, 80),
                       interval=30.0, queued=45, in_flight=8)  # fmt: skip
    assert progress == Progress(130, 90, 60.0, 20.0, 45, 8)
    assert format_progress("eastmoney", progress) == (
        "Progress eastmoney: 130 pages (at 60 pages/min), 90 items (at 20 items/min), "
        "45 queued, 8 in flight"
    )
    assert format_progress("x", Progress(0, 0, 0.0, 0.0, None, None)) == (
        "Progress x: 0 pages (at 0 pages/min), 0 items (at 0 items/min)"
    )


def test_project_settings_record_every_crawl_and_log_progress() -> None:
    extensions = get_project_settings().getwithbase("EXTENSIONS")
    assert extensions["crawler.extensions.runs.RunRecorder"] is not None
    assert extensions["crawler.extensions.progress.ProgressLog"] is not None
    assert extensions["scrapy.extensions.logstats.LogStats"] is None


def test_a_sink_that_fails_is_dropped_and_its_client_given_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Down:
        def insert_one(self, record: dict) -> None:
            raise ServerSelectionTimeoutError("mongodb://finews:s3cret@db.example:27017 down")

    class Client:
        closed = 0

        def __init__(self, uri: str, **options: Any) -> None: ...

        def close(self) -> None:
            Client.closed += 1

    crawler = make_crawler(NEWS_MONGO_URI="mongodb://runs.test", NEWS_MONGO_CLIENT_FACTORY=Client)
    config = StorageConfig.from_settings(crawler.settings)
    acquire_client(config)
    recorder = RunRecorder(crawler, sinks=[MongoRunSink(Down(), config)])
    recorder._write("opened", {"_id": "run"})
    assert recorder.sinks == []
    assert Client.closed == 1  # the sink was the client's last user
    message = " ".join(r.getMessage() for r in caplog.records)
    assert "ServerSelectionTimeoutError" in message
    assert "s3cret" not in message


def test_describe_error_leads_with_the_error_a_failed_cleanup_hid() -> None:
    assert describe_error(ValueError("bad column")) == "ValueError: bad column"
    try:
        try:
            raise ConnectionError("Redis refused")
        except ConnectionError:
            raise RuntimeError("Engine slot not assigned")  # noqa: B904 (what Scrapy does)
    except RuntimeError as error:
        hidden = error
    assert describe_error(hidden) == (
        "ConnectionError: Redis refused (then RuntimeError: Engine slot not assigned)"
    )


def test_a_worker_found_dead_has_its_running_record_ended_once_and_only_that() -> None:
    crawler, recorder = recorded_crawler(NEWS_RUN_BATCH="b9")
    recorder.spider_opened()
    (sink,) = recorder.sinks
    naive = START.replace(tzinfo=None)  # as MongoDB gives times back
    sink.collection.insert_many([
        {"_id": "dead", "batch": "b9", "spider": "news", "worker": "h2:22:bb",
         "status": "running", "started_at": naive},
        {"_id": "done", "batch": "b9", "spider": "news", "worker": "h3:33:cc",
         "status": "ok", "finish_reason": "finished", "started_at": naive},
        {"_id": "elsewhere", "batch": "b8", "spider": "news", "worker": "h2:22:bb",
         "status": "running", "started_at": naive},
    ])  # fmt: skip
    found = START.replace(minute=1)
    crawler.signals.send_catch_log(worker_lost, worker="h2:22:bb", detected_at=found)
    crawler.signals.send_catch_log(worker_lost, worker="h3:33:cc", detected_at=found)
    # Told again, later (another worker found it too): nothing changes.
    crawler.signals.send_catch_log(worker_lost, worker="h2:22:bb", detected_at=END)
    records = {r["_id"]: r for r in sink.collection.find()}
    dead = records["dead"]
    assert (dead["status"], dead["finish_reason"]) == ("failed", "lost")
    assert dead["finished_at"].replace(tzinfo=UTC) == found
    assert dead["elapsed_s"] == 60
    assert dead["problems"] == [LOST_PROBLEM]
    assert records["done"]["status"] == "ok"  # a finished run is never overwritten
    assert records["elsewhere"]["status"] == "running"  # another batch
    assert records[recorder.run_id]["status"] == "running"  # this worker's own run


def test_a_file_sink_has_no_running_record_to_end(tmp_path: Path) -> None:
    sink = FileRunSink(tmp_path / "runs.jsonl")
    assert sink.mark_lost({"batch": "b9"}, END) == []
    assert not (tmp_path / "runs.jsonl").exists()
