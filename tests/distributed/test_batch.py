"""Workers of a batch in one process: batch ids, keys, the add-on, claim keys, merged stats and
the batch's health, the shared limiter's turns on a real Redis."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
import redis
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings
from twisted.internet.defer import Deferred, succeed

from crawler.commands.runs import as_time
from crawler.distributed import (
    LIMITER,
    RECORDER,
    SCHEDULER,
    BatchAddon,
    BatchKeys,
    batch_id,
    redact,
    resolve_batch,
    worker_lost,
)
from crawler.distributed.batch import (
    FINISH,
    IDLE_PEERS,
    LEAVE,
    WAIT_NONE,
    BatchRecorder,
    batch_record,
    merge_stats,
)
from crawler.distributed.frontier import REDIS_LOST, BatchScheduler
from crawler.distributed.limiter import SLOT_FULL, SlotTurns
from crawler.extensions.health import Thresholds
from crawler.sources.eastmoney.listing import EastMoneyEntry
from crawler.spiders.eastmoney import EastMoneyColumnSpider
from crawler.spiders.walk import entry_id
from crawler.store.mongo import StorageConfig, acquire_client, release_client
from tests.conftest import make_crawler

if TYPE_CHECKING:
    from collections.abc import Iterator

KEYS = BatchKeys("finews", "b1", "eastmoney")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 12, 3, 5, 20, 0, tzinfo=UTC), "20261203T0520Z"),
        # Workers a timer started a little late or a little early agree.
        (datetime(2026, 12, 3, 5, 24, 59, tzinfo=UTC), "20261203T0520Z"),
        (datetime(2026, 12, 3, 5, 15, 1, tzinfo=UTC), "20261203T0520Z"),
        (datetime(2026, 12, 3, 5, 25, 1, tzinfo=UTC), "20261203T0530Z"),
        (datetime(2026, 12, 31, 23, 58, tzinfo=UTC), "20270101T0000Z"),
    ],
)
def test_batch_id_is_the_nearest_window_boundary(now: datetime, expected: str) -> None:
    assert batch_id(now, 10) == expected


def test_a_given_batch_id_wins_over_the_clock() -> None:
    now = datetime(2026, 12, 3, 5, 21, tzinfo=UTC)
    assert resolve_batch(Settings({"NEWS_BATCH_ID": " nightly-7 "}), now) == "nightly-7"
    assert resolve_batch(Settings({"NEWS_BATCH_WINDOW": 60}), now) == "20261203T0500Z"


def test_keys_are_namespaced_by_project_batch_and_spider() -> None:
    assert KEYS.queue == "finews:b1:eastmoney:requests"
    assert KEYS.held("h:1:ab") == "finews:b1:eastmoney:held:h:1:ab"
    # The limiter is the batch's, whichever spider asks.
    assert KEYS.limit("site:cmrnn") == "finews:b1:limit:site:cmrnn"


def test_redis_passwords_are_not_logged() -> None:
    assert redact("redis://:s3cret@cache.internal:6379/0") == "redis://***@cache.internal:6379/0"
    assert redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def addon_settings(**values: Any) -> Settings:
    settings = get_project_settings()
    settings.setdict(values, priority="cmdline")
    BatchAddon().update_settings(settings)
    return settings


def test_without_a_redis_url_the_addon_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWS_REDIS_URL", raising=False)
    before = get_project_settings().copy_to_dict()
    assert addon_settings().copy_to_dict() == before


def test_a_worker_gets_the_frontier_limiter_recorder_and_its_batch() -> None:
    settings = addon_settings(
        NEWS_REDIS_URL="redis://127.0.0.1:1/0", NEWS_BATCH_ID="b7", JOBDIR="jobs/x"
    )
    assert settings["SCHEDULER"] == SCHEDULER
    assert LIMITER in settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert RECORDER in settings.getdict("EXTENSIONS")
    assert settings["NEWS_RUN_BATCH"] == "b7"
    assert settings["JOBDIR"] is None


# --- claim keys ----------------------------------------------------------------------------------


@pytest.fixture
def spider() -> EastMoneyColumnSpider:
    crawler = make_crawler()
    return EastMoneyColumnSpider.from_crawler(crawler)


def test_an_article_request_is_claimed_by_its_story_id(spider: EastMoneyColumnSpider) -> None:
    entry = EastMoneyEntry(url="https://finance.eastmoney.com/a/202205202386046762.html",
                           native_id="202205202386046762")  # fmt: skip
    request = spider.request(entry.url, spider.parse_article, "article", entry=entry, feed="x")
    assert (
        spider.claim_key(request) == entry_id("eastmoney", entry) == "eastmoney:202205202386046762"
    )


def test_a_listing_request_is_claimed_by_its_url_without_volatile_parameters(
    spider: EastMoneyColumnSpider,
) -> None:
    listing = spider.listing(345, 2)
    first, again = (
        listing.replace(url=re.sub(r"req_trace=\d+", f"req_trace={trace}", listing.url))
        for trace in (1, 2)
    )
    assert first.url != again.url
    assert spider.claim_key(first) == spider.claim_key(again)
    assert spider.claim_key(spider.listing(345, 3)) != spider.claim_key(again)


# --- the batch record --------------------------------------------------------------------------


def worker_stats(**values: Any) -> dict[str, Any]:
    return {
        "start_time": "2026-12-03T05:20:00+00:00",
        "finish_time": "2026-12-03T05:21:00+00:00",
        "finish_reason": "finished",
        "downloader/request_count": 0,
        **values,
    }


def test_merged_stats_sum_counts_and_span_the_workers() -> None:
    merged = merge_stats([
        worker_stats(**{"downloader/request_count": 10, "news/store/inserted": 8}),
        worker_stats(start_time="2026-12-03T05:20:30+00:00",
                     finish_time="2026-12-03T05:22:00+00:00",
                     **{"downloader/request_count": 5, "news/run/problems": 1}),
    ])  # fmt: skip
    assert merged["downloader/request_count"] == 15
    assert merged["news/store/inserted"] == 8
    assert "news/run/problems" not in merged
    assert merged["elapsed_time_seconds"] == 120
    assert merged["finish_reason"] == "finished"
    assert (
        merge_stats([worker_stats(), worker_stats(finish_reason="shutdown")])["finish_reason"]
        == "shutdown"
    )


THRESHOLDS = Thresholds(
    expect_items=True, max_error_ratio=0.05, min_coverage={}, coverage_min_items=10
)


def run(stats: dict[str, Any], name: str) -> dict[str, Any]:
    return {"record": {"_id": name, "status": "ok", "items": {"stored": 0}}, "stats": stats}


def test_a_worker_that_got_no_work_does_not_fail_the_batch() -> None:
    busy = worker_stats(**{"downloader/request_count": 40, "item_scraped_count": 40,
                           "news/store/inserted": 40})  # fmt: skip
    record = batch_record(
        KEYS, [run(busy, "a"), run(worker_stats(), "b")], [], THRESHOLDS, ["finished"]
    )
    assert record["status"] == "ok", record["problems"]
    assert record["kind"] == "batch"
    assert [w["run"] for w in record["workers"]] == ["a", "b"]
    assert record["items"]["stored"] == 40


def test_a_batch_that_found_nothing_or_erred_fails_as_a_whole() -> None:
    idle = batch_record(KEYS, [run(worker_stats(), "a")], [], THRESHOLDS, ["finished"])
    assert idle["status"] == "failed"
    assert idle["problems"] == ["no items: the spider found no article"]
    # Each worker under the error ratio, the batch over it.
    errors = worker_stats(**{"downloader/request_count": 10, "item_scraped_count": 10,
                             "log_count/ERROR": 1})  # fmt: skip
    record = batch_record(KEYS, [run(errors, "a"), run(errors, "b")], [], THRESHOLDS,
                          ["finished"])  # fmt: skip
    assert record["problems"] == ["error ratio 0.10 over 0.05 (2 errors, 20 requests)"]


# --- the shared limiter --------------------------------------------------------------------------


@pytest.fixture
def server(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def turns(server: redis.Redis) -> SlotTurns:
    return SlotTurns(server, BatchKeys("finews", f"t-{uuid.uuid4().hex[:8]}", "site"), 30)


def test_workers_share_a_slot_s_delay(server: redis.Redis) -> None:
    one = turns(server)
    other = SlotTurns(server, one.keys, 30)  # another worker of the batch
    assert one.take("em", delay=60, concurrency=0, place="a") == 0
    wait = other.take("em", delay=60, concurrency=0, place="b")
    assert 59 < wait <= 60
    # Another slot is not held back.
    assert other.take("cmrnn", delay=60, concurrency=0, place="c") == 0


def test_workers_share_a_slot_s_concurrency(server: redis.Redis) -> None:
    one = turns(server)
    other = SlotTurns(server, one.keys, 30)
    assert one.take("em", delay=0, concurrency=2, place="a") == 0
    assert other.take("em", delay=0, concurrency=2, place="b") == 0
    assert other.take("em", delay=0, concurrency=2, place="c") == SLOT_FULL
    one.leave("em", "a")
    assert other.take("em", delay=0, concurrency=2, place="c") == 0


def test_a_place_whose_worker_died_is_freed_after_the_lease(server: redis.Redis) -> None:
    dead = SlotTurns(server, turns(server).keys, 0.001)  # its place lasts a millisecond
    assert dead.take("em", delay=0, concurrency=1, place="a") == 0
    time.sleep(0.01)  # Redis's clock passes the lease
    assert SlotTurns(server, dead.keys, 30).take("em", delay=0, concurrency=1, place="b") == 0


# --- the frontier --------------------------------------------------------------------------------


@pytest.fixture
def frontier(redis_url: str, spider: EastMoneyColumnSpider) -> Iterator[BatchScheduler]:
    crawler = make_crawler(
        NEWS_REDIS_URL=redis_url, NEWS_BATCH_ID=f"f-{uuid.uuid4().hex[:8]}", NEWS_RUNS_ENABLED=0
    )
    crawler.spider = spider
    scheduler = BatchScheduler.from_crawler(crawler)
    scheduler.open(spider)
    yield scheduler
    scheduler.close("finished")


def test_a_request_is_claimed_once_per_batch_whatever_its_dont_filter(
    frontier: BatchScheduler, spider: EastMoneyColumnSpider
) -> None:
    entry = EastMoneyEntry(url="https://finance.eastmoney.com/a/1.html", native_id="1")
    article = spider.request(entry.url, spider.parse_article, "article", entry=entry, feed="x")
    assert article.dont_filter
    assert frontier.enqueue_request(article)
    # Another worker's request for the same story, under another URL: claimed already.
    elsewhere = article.replace(url="https://finance.eastmoney.com/a/NW1.html")
    assert not frontier.enqueue_request(elsewhere)
    assert frontier.claimed(["eastmoney:1", "eastmoney:2"]) == {"eastmoney:1"}
    # A retry or a redirect carries on the claim of its request.
    assert frontier.enqueue_request(article.replace(meta={**article.meta, "retry_times": 1}))
    assert frontier.enqueue_request(article.replace(meta={**article.meta, "redirect_times": 1}))
    assert frontier.stats.get_value("news/batch/claimed_elsewhere") == 1


def test_a_popped_request_is_held_until_released(
    frontier: BatchScheduler, spider: EastMoneyColumnSpider, server: redis.Redis
) -> None:
    frontier.enqueue_request(spider.listing(345, 1))
    request = frontier.next_request()
    assert request is not None
    assert request.cb_kwargs == {"column": 345, "page_index": 1}
    assert frontier.next_request() is None
    held = frontier.keys.held(frontier.worker)
    assert server.hlen(held) == 1
    frontier.release(list(frontier.held))
    assert server.hlen(held) == 0


def test_the_requests_of_a_dead_worker_go_back_to_the_queue(
    frontier: BatchScheduler, spider: EastMoneyColumnSpider, server: redis.Redis
) -> None:
    frontier.enqueue_request(spider.listing(345, 1))
    frontier.enqueue_request(spider.listing(345, 2))
    assert frontier.next_request() is not None
    # The worker dies: its lease lapses, another worker of the batch finds it.
    frontier.leaving.set()
    server.delete(frontier.keys.alive(frontier.worker))
    other = BatchScheduler(server, frontier.crawler, frontier.keys)
    other.open(spider)
    told: list[tuple[str, datetime]] = []

    def lost(worker: str, detected_at: datetime) -> None:
        told.append((worker, detected_at))

    frontier.crawler.signals.connect(lost, signal=worker_lost)
    try:
        assert other.others_hold()
        assert other.recover() == 1
        assert not other.others_hold()
        assert len(other.queue) == 2
        assert server.smembers(frontier.keys.lost) == {frontier.worker.encode()}
        # Told once, with when it was found dead, also noted in Redis for the batch summary.
        assert other.recover() == 0
        ((worker, found),) = told
        assert worker == frontier.worker
        ended = server.hgetall(frontier.keys.ended)
        assert ended == {frontier.worker.encode(): found.isoformat().encode()}
    finally:
        other.close("finished")


def test_the_last_worker_out_records_the_batch_even_when_an_idle_peer_died(
    server: redis.Redis,
) -> None:
    keys = BatchKeys("finews", f"l-{uuid.uuid4().hex[:8]}", "site")
    leave = server.register_script(LEAVE)
    server.sadd(keys.workers, "a", "b")
    server.set(keys.alive("a"), 1)
    server.set(keys.alive("b"), 1)

    def look(worker: str, leaving: int) -> int:
        script_keys = [keys.workers, keys.alive(worker), keys.runs, keys.queue, keys.done,
                       keys.ended]  # fmt: skip
        args = [worker, "{}", 60, f"{keys.prefix}:", leaving, "2026-12-03T05:21:00+00:00"]
        return int(leave(keys=script_keys, args=args))

    server.hset(keys.held("b"), "t", "0|request")
    assert look("a", 1) == WAIT_NONE  # b holds work: b will be the last
    server.delete(keys.held("b"))
    assert look("a", 0) == IDLE_PEERS  # b is idle: b may be leaving, or dead
    server.delete(keys.alive("b"))  # b's lease lapsed: it died idle
    assert look("a", 0) == FINISH
    assert server.exists(keys.done)
    assert server.hgetall(keys.ended) == {b"b": b"2026-12-03T05:21:00+00:00"}  # b found dead
    assert look("a", 0) == WAIT_NONE  # recorded once
    assert server.llen(keys.runs) == 1


def test_a_worker_that_loses_redis_stops_and_touches_it_no_more() -> None:
    crawler = make_crawler(NEWS_REDIS_URL="redis://127.0.0.1:1/0", NEWS_BATCH_ID="lost")
    reasons: list[str] = []

    class Engine:
        def close_spider_async(self, *, reason: str) -> Deferred[None]:
            reasons.append(reason)
            return succeed(None)

    crawler.engine = Engine()  # type: ignore[assignment]
    nowhere = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    scheduler = BatchScheduler(nowhere, crawler, KEYS)
    assert scheduler.next_request() is None
    assert not scheduler.has_pending_requests()
    assert scheduler.next_request() is None
    assert reasons == [REDIS_LOST]
    assert crawler.stats.get_value("news/batch/redis_lost") == 1


def test_the_last_worker_ends_the_runs_of_dead_workers_and_lists_them(
    server: redis.Redis,
) -> None:
    batch = f"d-{uuid.uuid4().hex[:8]}"
    keys = BatchKeys("finews", batch, "site")
    crawler = make_crawler(NEWS_REDIS_URL="redis://unused", NEWS_BATCH_ID=batch,
                           NEWS_MONGO_URI="mongodb://batch.test", NEWS_RUNS_MONGO=True,
                           NEWS_MONGO_CLIENT_FACTORY="mongomock.MongoClient")  # fmt: skip
    config = StorageConfig.from_settings(crawler.settings)
    runs = acquire_client(config)[config.database]["crawl_runs"]  # held: mongomock's data stays
    start = datetime(2026, 12, 3, 5, 20)  # as MongoDB gives times back: naive, UTC

    def record(run: str, worker: str, status: str, **more: Any) -> dict[str, Any]:
        return {"_id": run, "batch": batch, "spider": "site", "worker": worker,
                "status": status, "started_at": start, **more}  # fmt: skip

    runs.insert_many([
        record("r-a", "h1:11:aa", "ok", finish_reason="finished"),  # left the batch
        record("r-b", "h2:22:bb", "running"),  # killed; found dead by a
        record("r-c", "h3:33:cc", "running"),  # killed idle, found by nobody
        record("r-other", "h4:44:dd", "running", spider="eastmoney"),  # another spider's
    ])  # fmt: skip
    departed = {"_id": "r-a", "worker": "h1:11:aa", "status": "ok", "host": "h1", "pid": 11,
                "items": {"stored": 3}}  # fmt: skip
    server.rpush(keys.runs, json.dumps({"record": departed, "stats": worker_stats()}))
    # a found b dead at 05:20:40; a itself, leaving late, was also taken for dead once.
    server.hset(keys.ended, mapping={"h2:22:bb": "2026-12-03T05:20:40+00:00",
                                     "h1:11:aa": "2026-12-03T05:20:50+00:00"})  # fmt: skip
    try:
        recorder = BatchRecorder(crawler, server, keys)
        recorder.finish()
        found = {r["_id"]: r for r in runs.find()}
        assert found["r-a"]["status"] == "ok"
        b, c = found["r-b"], found["r-c"]
        assert (b["status"], b["finish_reason"], b["elapsed_s"]) == ("failed", "lost", 40)
        assert b["finished_at"].replace(tzinfo=UTC) == datetime(2026, 12, 3, 5, 20, 40, tzinfo=UTC)
        assert (c["status"], c["finish_reason"]) == ("failed", "lost")
        assert found["r-other"]["status"] == "running"
        summary = found[f"batch {batch} site"]
        assert [(w["run"], w["worker"], w["host"], w["pid"], w["status"], w["finish_reason"],
                 as_time(w.get("finished_at")))
                for w in summary["workers"]] == [
            ("r-a", "h1:11:aa", "h1", 11, "ok", None, None),
            ("r-b", "h2:22:bb", "h2", 22, "failed", "lost", as_time(b["finished_at"])),
            ("r-c", "h3:33:cc", "h3", 33, "failed", "lost", as_time(c["finished_at"])),
        ]  # fmt: skip
        assert not server.exists(keys.ended)
    finally:
        runs.database.client.drop_database(config.database)
        release_client(config)
