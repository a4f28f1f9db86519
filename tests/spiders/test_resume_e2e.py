"""``kill -9`` a crawl, run it again: every article is stored, each once (issue 15, item 1).

A local site of 200 articles, newest first, 20 to a listing page, is crawled by ``scrapy crawl
site`` or ``scrapy crawlall`` in a subprocess, storing into a MongoDB-protocol
server (the ``mongo_uri`` fixture). The crawl is killed, its rerun killed, and so on, each at a
point the test waits for (never after a bare sleep); then a last run:

- ``listing``: the walk asked for listing page 5 (held unanswered) and 40 articles are stored;
- ``flush``: the run's first bulk write of articles stalls half-written (a test hook in the crawl
  process, :func:`boot`);
- ``articles``: the walk reached the oldest page, whose articles are held unanswered, and 100
  articles are stored.

Before walks were recorded, the rerun met a first page whose articles were all stored, stopped
there (``stop/nothing_new``) and reported a healthy run with articles missing for good.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
import pytest

from tests.conftest import ROOT
from tests.localsite import HTML, article_page, serve_listing, site_source
from tests.mockserver import MockServer

pytestmark = pytest.mark.e2e

ARTICLES = 200
PER_PAGE = 20
PAGES = ARTICLES // PER_PAGE
BATCH = 20
#: The crawl process's environment variable naming the bulk write (1, 2, …) that stalls.
STALL_ENV = "FINEWS_TEST_STALL_WRITE"
#: … and the file it creates once that write is half done.
STALLED_ENV = "FINEWS_TEST_STALLED_FILE"
#: How long a kill point may take to come (a crawl of the whole site takes a few seconds).
DEADLINE = 60.0
FIRST_PUBLISHED = datetime(2022, 5, 1)


def boot(argv: list[str]) -> None:
    """Run ``scrapy <argv>``; with :data:`STALL_ENV` set, that article bulk write stores half its
    operations, creates :data:`STALLED_ENV`'s file and never returns (the test kills it)."""
    if stall := os.environ.get(STALL_ENV):
        from pymongo.collection import Collection

        original = Collection.bulk_write
        calls = 0

        def bulk_write(self: Collection[Any], requests: Any, *args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            if self.name == "articles":
                calls += 1
                if calls == int(stall):
                    if half := list(requests)[: len(requests) // 2]:
                        original(self, half, *args, **kwargs)
                    Path(os.environ[STALLED_ENV]).touch()
                    threading.Event().wait()
            return original(self, requests, *args, **kwargs)

        Collection.bulk_write = bulk_write  # type: ignore[method-assign]
    from scrapy.cmdline import execute

    execute(["scrapy", *argv])


@dataclass
class Hold:
    """Requests ``picks`` chooses wait unanswered until ``release``; ``arrived`` says one came."""

    picks: Callable[[str], bool]
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class HoldingServer(MockServer):
    """A mock server that holds the requests its current :class:`Hold` picks."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = Hold(lambda path: False)
        # A killed crawl's held connections break: expected, not worth a traceback.
        self._httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]

    def _respond(self, path: str) -> tuple[int, dict[str, str], bytes]:
        hold = self.hold
        if hold.picks(path):
            hold.arrived.set()
            hold.release.wait(DEADLINE)
        return super()._respond(path)


def article_path(number: int) -> str:
    return f"/news/{number}.html"


def build_site(server: MockServer) -> str:
    """Serve 200 articles, newest (200) first, twenty a page; return the sources file's text."""
    newest_first = list(range(ARTICLES, 0, -1))
    start = serve_listing(server, [article_path(n) for n in newest_first], PER_PAGE)
    for number in newest_first:
        shown = (FIRST_PUBLISHED + timedelta(hours=number)).strftime("%Y-%m-%d %H:%M")
        body = article_page(f"续传测试新闻第{number}篇", shown, f"resume{number}")
        server.routes[article_path(number)] = (200, HTML, body)
    return site_source("resume", "续传新闻网", start, delay=0, concurrency=8)


def command(kind: str, tmp: Path, uri: str, database: str) -> list[str]:
    """Return the crawl's command line: ``crawl`` (the site spider) or ``crawlall``."""
    settings = {
        "NEWS_SOURCES_FILE": str(tmp / "sources.toml"),
        "NEWS_MONGO_URI": uri,
        "NEWS_MONGO_DATABASE": database,
        "NEWS_MONGO_BATCH_SIZE": BATCH,
        # Full batches, mostly: each write asks the server for its candidates (one query).
        "NEWS_MONGO_FLUSH_SECONDS": 2,
        "NEWS_SPOOL_DIR": str(tmp / "spool"),
        "NEWS_RUNS_FILE": str(tmp / "runs.jsonl"),
        "NEWS_LOCK_FILE": str(tmp / "crawl.lock"),
        # No JOBDIR: after a kill -9 its disk queue may be unreadable (docs/operations.md).
        "NEWS_JOBDIR": "",
        "AUTOTHROTTLE_ENABLED": False,
        "ROBOTSTXT_OBEY": False,
        "RETRY_ENABLED": False,
        "LOG_LEVEL": "INFO",
    }
    argv = ["crawlall", "site"] if kind == "crawlall" else ["crawl", "site", "-a", "source=resume"]
    for name, value in settings.items():
        argv += ["-s", f"{name}={value}"]
    boot_code = f"import sys; from {__name__} import boot; boot(sys.argv[1:])"
    return [sys.executable, "-c", boot_code, *argv]


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], what: str) -> None:
    """Wait until ``condition`` holds while the crawl runs; fail when it ends or time is up."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert process.poll() is None, f"the crawl ended before {what}"
        assert time.monotonic() < deadline, f"no {what} within {DEADLINE} s"
        time.sleep(0.02)


def article_number(path: str) -> int | None:
    """Return the number of an article's path, ``None`` for other paths."""
    name = path.removeprefix("/news/").removesuffix(".html")
    return int(name) if path.startswith("/news/") and name.isdigit() else None


#: What each kill point holds unanswered: listing page 5; the articles of the oldest page.
HOLDS: dict[str, Callable[[str], bool]] = {
    "listing": lambda path: path == "/list/5.html",
    "articles": lambda path: (article_number(path) or ARTICLES) <= PER_PAGE,
    "flush": lambda path: False,
}
#: Stored articles to wait for, once the held request arrived, before the kill.
STORED_AT_KILL = {"listing": 40, "articles": 100}


def crawl_until_killed(
    point: str, argv: list[str], env: dict[str, str], server: HoldingServer, stored: Any
) -> None:
    """Run the crawl and ``kill -9`` it at ``point``."""
    hold = server.hold = Hold(HOLDS[point])
    stalled = Path(env[STALLED_ENV]) / point
    if point == "flush":
        env = {**env, STALL_ENV: "1", STALLED_ENV: str(stalled)}
    with (stalled.parent / f"{point}.log").open("w") as log:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=log, text=True)
        try:
            if point == "flush":
                wait_for(stalled.exists, process, "a stalled bulk write")
            else:
                wait_for(hold.arrived.is_set, process, "the held request")
                count = STORED_AT_KILL[point]
                wait_for(lambda: stored.count_documents({}) >= count, process, f"{count} stored")
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
            hold.release.set()


#: The kill points of each command's chain of runs (crawlall's walk is the same: two suffice).
POINTS = {"crawl": ("listing", "flush", "articles"), "crawlall": ("flush", "articles")}


@pytest.mark.parametrize("kind", list(POINTS))
def test_a_crawl_killed_again_and_again_stores_every_article_once(
    kind: str, mongo_uri: str, tmp_path: Path
) -> None:
    """Kill the crawl during its listing walk, its rerun during a storage flush, and that
    rerun's rerun while it fetches articles (crawlall: the last two); the next run stores the
    rest: 200 of 200, each once."""
    database = f"resume_{kind}"
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri)
    client.drop_database(database)
    stored, walks = client[database]["articles"], client[database]["walks"]
    argv = command(kind, tmp_path, mongo_uri, database)
    env = {**os.environ, STALLED_ENV: str(tmp_path)}
    with HoldingServer() as server:
        (tmp_path / "sources.toml").write_text(build_site(server), "utf-8")
        for point in POINTS[kind]:
            crawl_until_killed(point, argv, env, server, stored)
            assert stored.count_documents({}) < ARTICLES, point
            (walk,) = walks.find()
            assert walk["complete"] is False, point
        server.hold = Hold(HOLDS["flush"])  # nothing held
        last = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=DEADLINE
        )
        assert last.returncode == 0, last.stderr[-3000:]
        expected = {server.url(article_path(n)) for n in range(1, ARTICLES + 1)}
    documents = list(stored.find({}, {"canonical_url": 1, "sightings": 1}))
    assert len(documents) == ARTICLES
    assert {d["canonical_url"] for d in documents} == expected
    assert all(len(d["sightings"]) == 1 for d in documents)
    (record,) = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text().splitlines()]
    assert (record["status"], record["finish_reason"]) == ("ok", "finished")
    assert (record["walks"]["resumed"], record["walks"]["complete"]) == (1, 1)
    assert "1 interrupted walks resumed" in last.stderr
    (walk,) = walks.find()
    assert walk["complete"] is True
    client.drop_database(database)
    client.close()
