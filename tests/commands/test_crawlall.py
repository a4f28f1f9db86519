"""``scrapy crawlall`` end to end: real crawls in subprocesses against a local HTTP server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.exceptions import UsageError

from crawler.commands.crawlall import (
    EXIT_LOCKED,
    LockHeld,
    acquire_lock,
    jobdir_for,
    select_spiders,
)
from crawler.extensions.jobdir import MARKER
from tests.conftest import ROOT
from tests.extensions.test_notify import Webhook
from tests.mockserver import MockServer

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# Whole crawls or commands in subprocesses: `-m 'not e2e'` leaves them out of a quick run.
pytestmark = pytest.mark.e2e

ARTICLES = 6
HTML = {"Content-Type": "text/html; charset=utf-8"}


def article_page(n: int, publisher: str | None = "中国证券报") -> bytes:
    """Return the HTML of test article ``n``."""
    credit = f"<p class=publisher>{publisher}</p>" if publisher else ""
    return (
        f"<html><body><h1>标题 {n}</h1><time>2022-05-20 09:{n:02d}</time>{credit}"
        f"<div class=body>正文 {n}</div></body></html>"
    ).encode()


def routes(articles: int = ARTICLES, publisher: str | None = "中国证券报") -> dict[str, Any]:
    """Return a listing linking ``articles`` pages, the pages, and an empty listing."""
    links = "".join(f'<a href="/a/{n}.html">{n}</a>' for n in range(1, articles + 1))
    pages = {
        f"/a/{n}.html": (200, HTML, article_page(n, publisher)) for n in range(1, articles + 1)
    }
    return {
        "/list.html": (200, HTML, f"<html><body>{links}</body></html>".encode()),
        "/empty.html": (200, HTML, b"<html><body>nothing today</body></html>"),
        **pages,
    }


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(routes()) as mock:
        yield mock


def scrapy_args(tmp_path: Path, server: MockServer, *extra: str) -> list[str]:
    """Return the settings every test crawl shares: its server, lock, run-record file, stats dir."""
    settings = {
        "OPS_BASE_URL": server.url(""),
        "NEWS_LOCK_FILE": str(tmp_path / "crawlall.lock"),
        "NEWS_RUNS_FILE": str(tmp_path / "runs.jsonl"),
        "OPS_STATS_DIR": str(tmp_path / "stats"),
        "LOG_FILE": str(tmp_path / "crawl.log"),
    }
    args = [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]
    return [*args, *extra]


def start(tmp_path: Path, server: MockServer, *args: str) -> subprocess.Popen[str]:
    """Start ``scrapy ARGS`` in a subprocess with the test project settings."""
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "tests.ops_spiders.settings"}
    command = [sys.executable, "-m", "scrapy", *args[:2], *scrapy_args(tmp_path, server),
               *args[2:]]  # fmt: skip
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def run(tmp_path: Path, server: MockServer, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``scrapy ARGS`` to its end and return the finished process."""
    process = start(tmp_path, server, *args)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def run_records(tmp_path: Path) -> list[dict[str, Any]]:
    """Return the run records the crawls wrote to the JSON-lines file."""
    path = tmp_path / "runs.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def log(tmp_path: Path) -> str:
    return (tmp_path / "crawl.log").read_text()


def test_second_crawlall_exits_at_once_while_the_first_crawls(
    tmp_path: Path, server: MockServer
) -> None:
    # A download delay keeps the first run crawling while the second one starts.
    delay = ("-s", "DOWNLOAD_DELAY=0.3", "-s", "LOGSTATS_INTERVAL=0.5")
    first = start(tmp_path, server, "crawlall", "ops_pages", *delay)
    second = start(tmp_path, server, "crawlall", "ops_pages", *delay)
    results = [p.communicate(timeout=60) + (p.returncode,) for p in (first, second)]
    codes = sorted(code for _, _, code in results)
    assert codes == [0, EXIT_LOCKED], results
    locked_stderr = next(err for _, err, code in results if code == EXIT_LOCKED)
    assert "not crawling, another crawlall (pid" in locked_stderr
    # Only one crawl happened: one record, each page fetched once.
    records = run_records(tmp_path)
    assert [r["spider"] for r in records] == ["ops_pages"]
    assert server.count("/list.html") == 1
    assert all(server.count(f"/a/{n}.html") == 1 for n in range(1, ARTICLES + 1))
    text = log(tmp_path)
    assert "crawlall ops_pages: ok (finished" in text
    assert "Progress ops_pages: " in text
    assert " pages/min), " in text


def test_run_record_figures_equal_scrapy_stats(tmp_path: Path, server: MockServer) -> None:
    result = run(tmp_path, server, "crawlall", "ops_pages")
    assert result.returncode == 0, result.stderr
    (record,) = run_records(tmp_path)
    stats = json.loads((tmp_path / "stats" / "ops_pages.json").read_text())
    assert record["status"] == "ok"
    assert record["problems"] == []
    assert record["finish_reason"] == stats["finish_reason"] == "finished"
    assert record["requests"] == stats["downloader/request_count"] == ARTICLES + 1
    assert record["responses"]["received"] == stats["response_received_count"]
    assert record["responses"]["by_status"] == {
        "200": stats["downloader/response_status_count/200"]
    }
    assert record["items"]["scraped"] == stats["item_scraped_count"] == ARTICLES
    assert record["errors"]["count"] == stats.get("log_count/ERROR", 0) == 0
    assert record["started_at"] == stats["start_time"].replace(" ", "T")
    assert record["finished_at"] == stats["finish_time"].replace(" ", "T")
    assert record["coverage"] == {"title": 1, "published_at": 1, "body_text": 1, "publisher": 1}
    assert stats["news/run/id"] == record["_id"]
    assert record["batch"]


def test_spider_without_items_fails_the_run(tmp_path: Path, server: MockServer) -> None:
    result = run(tmp_path, server, "crawlall", "ops_empty", "ops_pages")
    assert result.returncode == 1
    records = {r["spider"]: r for r in run_records(tmp_path)}
    assert records["ops_pages"]["status"] == "ok"
    assert records["ops_empty"]["status"] == "failed"
    assert records["ops_empty"]["problems"] == ["no items: the spider found no article"]
    assert records["ops_empty"]["batch"] == records["ops_pages"]["batch"]
    text = log(tmp_path)
    assert "ERROR: Run of ops_empty failed a check: no items" in text
    assert "ERROR: crawlall ops_empty: failed (finished" in text


def test_a_spider_that_never_starts_gets_a_failed_record_and_a_notification(
    tmp_path: Path, server: MockServer
) -> None:
    with Webhook() as hook:
        result = run(tmp_path, server, "crawlall", "ops_broken", "ops_pages",
                     "-s", f"NEWS_NOTIFY_URLS={hook.url()}",
                     "-s", f"NEWS_NOTIFY_STATE_FILE={tmp_path / 'notify.json'}")  # fmt: skip
    assert result.returncode == 1, result.stderr
    records = {r["spider"]: r for r in run_records(tmp_path)}
    assert records["ops_pages"]["status"] == "ok"  # the next spider still ran
    broken = records["ops_broken"]
    assert broken["status"] == "failed"
    assert broken["finish_reason"] == "not_started"
    assert broken["error"] == "ValueError: OPS_BASE_URL is not a URL"
    assert broken["problems"] == ["the spider did not start: ValueError: OPS_BASE_URL is not a URL"]
    assert broken["batch"] == records["ops_pages"]["batch"]
    assert broken["_id"] != records["ops_pages"]["_id"]
    assert broken["requests"] == 0
    assert broken["started_at"] <= broken["finished_at"]
    # Told through the same path as any failed run: one message, naming why.
    (message,) = hook.messages
    assert message["title"] == "finews ops_broken: failed"
    assert "- the spider did not start: ValueError: OPS_BASE_URL is not a URL" in message["message"]
    text = log(tmp_path)
    assert "ERROR: crawlall ops_broken: failed (not_started" in text
    assert "crawlall: 1 of 2 spiders failed: ops_broken" in text


def test_plain_crawl_records_its_run_and_flags_low_coverage(tmp_path: Path) -> None:
    with MockServer(routes(publisher=None)) as server:
        result = run(tmp_path, server, "crawl", "ops_pages",
                     "-s", "NEWS_HEALTH_COVERAGE_MIN_ITEMS=5")  # fmt: skip
    assert result.returncode == 0  # plain `scrapy crawl` keeps Scrapy's exit codes
    (record,) = run_records(tmp_path)
    assert record["batch"] is None
    assert record["status"] == "failed"
    assert record["coverage"]["publisher"] == 0
    assert record["problems"] == ["coverage of publisher 0% under 95%"]
    assert "ERROR: Run of ops_pages failed a check: coverage of publisher" in log(tmp_path)


def test_interrupted_crawl_resumes_from_its_jobdir_and_stores_each_article_once(
    tmp_path: Path, server: MockServer
) -> None:
    jobs = tmp_path / "jobs"
    feed = tmp_path / "articles.jsonl"
    feeds = json.dumps({str(feed): {"format": "jsonlines"}})
    common = ("-s", f"NEWS_JOBDIR={jobs}/{{spider}}", "-s", "CONCURRENT_REQUESTS=2",
              "-s", f"FEEDS={feeds}")  # fmt: skip
    cut = run(tmp_path, server, "crawlall", "ops_pages", *common, "-s", "CLOSESPIDER_ITEMCOUNT=2")
    assert cut.returncode == 1  # closespider_itemcount is not a clean finish
    assert (jobs / "ops_pages" / "requests.seen").exists()
    first = len(feed.read_text().splitlines())
    assert 2 <= first < ARTICLES

    assert (jobs / "ops_pages" / MARKER).read_text() == ""  # closed cleanly: resumable
    resumed = run(tmp_path, server, "crawlall", "ops_pages", *common)
    assert resumed.returncode == 0, resumed.stderr
    assert "did not stop cleanly" not in log(tmp_path)  # resumed, not discarded
    urls = [json.loads(line)["url"] for line in feed.read_text().splitlines()]
    assert sorted(urls) == sorted(server.url(f"/a/{n}.html") for n in range(1, ARTICLES + 1))
    assert server.count("/list.html") == 1
    assert all(server.count(f"/a/{n}.html") == 1 for n in range(1, ARTICLES + 1))
    assert not (jobs / "ops_pages").exists()  # a clean run leaves no job dir behind
    assert [r["finish_reason"] for r in run_records(tmp_path)] == [
        "closespider_itemcount",
        "finished",
    ]


def test_sigterm_stops_the_running_spider_and_starts_no_other(
    tmp_path: Path, server: MockServer
) -> None:
    jobs = tmp_path / "jobs"
    process = start(tmp_path, server, "crawlall", "ops_pages", "ops_empty",
                    "-s", "DOWNLOAD_DELAY=0.5", "-s", f"NEWS_JOBDIR={jobs}/{{spider}}")  # fmt: skip
    deadline = time.monotonic() + 30
    while server.count("/list.html") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 1
    (record,) = run_records(tmp_path)
    assert (record["spider"], record["finish_reason"]) == ("ops_pages", "shutdown")
    assert (jobs / "ops_pages" / "requests.seen").exists()  # kept: the next run resumes it
    assert (jobs / "ops_pages" / MARKER).read_text() == ""  # a graceful stop closed it cleanly
    assert server.count("/empty.html") == 0
    assert "crawlall ops_empty: failed (the spider did not run)" in log(tmp_path)


def test_acquire_lock_refuses_a_second_holder(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "crawlall.lock"
    with acquire_lock(path):
        with pytest.raises(LockHeld, match=rf"pid {os.getpid()}"):
            acquire_lock(path)
    acquire_lock(path).close()  # released with its file


@pytest.mark.parametrize(
    ("requested", "enabled", "expected"),
    [
        ([], [], ["a", "b", "c"]),
        ([], ["c", "a"], ["c", "a"]),
        (["b"], ["c", "a"], ["b"]),
        (["b", "b"], [], ["b"]),
    ],
)
def test_select_spiders(requested: list[str], enabled: list[str], expected: list[str]) -> None:
    assert select_spiders(["c", "a", "b"], requested, enabled) == expected


def test_select_spiders_refuses_unknown_names() -> None:
    with pytest.raises(UsageError, match="unknown spider"):
        select_spiders(["a"], ["nope"], [])


def test_jobdir_for() -> None:
    assert jobdir_for("jobs/{spider}", "eastmoney") == "jobs/eastmoney"
    assert jobdir_for("", "eastmoney") is None


def test_finished_but_unhealthy_run_clears_its_jobdir_so_the_next_run_crawls(
    tmp_path: Path,
) -> None:
    jobs = tmp_path / "jobs"
    common = ("-s", f"NEWS_JOBDIR={jobs}/{{spider}}", "-s", "NEWS_HEALTH_COVERAGE_MIN_ITEMS=5")
    with MockServer(routes(publisher=None)) as server:
        for _ in range(2):
            result = run(tmp_path, server, "crawlall", "ops_pages", *common)
            assert result.returncode == 1  # low publisher coverage fails the health check
            assert not (jobs / "ops_pages").exists()  # finished: nothing left to resume
        assert server.count("/list.html") == 2  # the second run was not filtered as a duplicate
    records = run_records(tmp_path)
    assert [r["items"]["scraped"] for r in records] == [ARTICLES, ARTICLES]
    assert [r["problems"] for r in records] == [["coverage of publisher 0% under 95%"]] * 2
