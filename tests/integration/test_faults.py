"""Faults on the wire: the server killed, restarted and frozen under a real ``scrapy crawlall``,
and a spool replayed while the server goes away. Nothing may be lost or stored twice, no wait may
outlast the configured timeouts, and the exit status and run record must say what happened.

These tests own their server (they kill it), so they run on FerretDB only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import pymongo
import pytest
from itemadapter import ItemAdapter
from pymongo.errors import PyMongoError

from crawler.store import spool
from crawler.store.mongo import StorageConfig, release_client
from crawler.store.writer import Record, open_store
from tests.conftest import FERRETDB, NO_GO, ROOT, make_crawler
from tests.localsite import HTML, article_page, serve_listing, site_source
from tests.mockserver import MockServer
from tests.storage_support import FETCHED, article

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = [
    pytest.mark.integration,
    pytest.mark.e2e,
    pytest.mark.skipif(
        bool(os.environ.get("MONGO_URI")),
        reason="MONGO_URI is set: these tests kill their server, so they need one of their own",
    ),
]

ARTICLES = 60
PER_PAGE = 20
DATABASE = "finews_faults"


class Server:
    """A FerretDB server of one test, to kill, freeze and restart on the same port and data."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.uri = ""

    def start(self, port: str = "") -> str:
        env = {**os.environ, "FINEWS_FERRETDB_PORT": port} if port else None
        started = subprocess.run(
            [FERRETDB, "start", str(self.directory)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if started.returncode == NO_GO:
            pytest.skip("Go is not installed: no FerretDB to test faults on")
        assert started.returncode == 0, started.stderr
        self.uri = started.stdout.strip().splitlines()[-1]
        return self.uri

    @property
    def pid(self) -> int:
        return int((self.directory / "ferretdb.pid").read_text())

    def signal(self, number: int) -> None:
        os.kill(self.pid, number)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        subprocess.run([FERRETDB, "stop", str(self.directory)], check=False)

    def restart(self) -> None:
        self.start(port=self.uri.rsplit(":", 1)[1].strip("/"))

    def stop(self) -> None:
        subprocess.run([FERRETDB, "stop", str(self.directory)], check=False)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    own = Server(tmp_path / "ferretdb")
    own.start()
    yield own
    if (own.directory / "ferretdb.pid").exists():
        own.signal(signal.SIGCONT)  # a frozen server cannot stop
    own.stop()


def build_site(site: MockServer) -> str:
    """Serve ``ARTICLES`` articles, newest first, ``PER_PAGE`` a listing page; return the TOML."""
    start = serve_listing(site, [f"/news/{n}.html" for n in range(ARTICLES)], PER_PAGE)
    for number in range(ARTICLES):
        day = 28 - number // 10
        site.routes[f"/news/{number}.html"] = (
            200,
            HTML,
            article_page(f"故障测试新闻{number}", f"2026-11-{day:02d} 08:00", f"f{number}"),
        )
    # One article a tenth of a second: the crawl takes seconds, so a fault lands in its middle.
    return site_source("faults", "故障测试网", start, delay=0.1, concurrency=1)


def crawlall(tmp_path: Path, uri: str, **settings: str) -> subprocess.Popen[str]:
    """Start ``scrapy crawlall site`` storing into ``uri``, in batches of 5."""
    env = {
        **os.environ,
        "NEWS_MONGO_URI": uri,
        "NEWS_MONGO_DATABASE": DATABASE,
        "NEWS_MONGO_BATCH_SIZE": "5",
        "NEWS_MONGO_FLUSH_SECONDS": "0",
        "NEWS_SOURCES_FILE": str(tmp_path / "sources.toml"),
        "NEWS_SPOOL_DIR": str(tmp_path / "spool"),
        "NEWS_RUNS_FILE": str(tmp_path / "runs.jsonl"),
        "NEWS_LOCK_FILE": str(tmp_path / "crawlall.lock"),
        # Its own: tests running at once (pytest-xdist) must not share the checkout's jobs/site.
        "NEWS_JOBDIR": str(tmp_path / "jobs" / "{spider}"),
        **settings,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "scrapy", "crawlall", "site", "-s", "AUTOTHROTTLE_ENABLED=0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_articles(site: MockServer, count: int) -> None:
    """Return once the crawl has asked for ``count`` articles (it fails the test after 60 s)."""
    deadline = time.monotonic() + 60
    while sum(path.startswith("/news/") for path in site.requested) < count:
        assert time.monotonic() < deadline, "the crawl never reached its articles"
        time.sleep(0.05)


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    _, errors = process.communicate(timeout=120)
    return process.returncode, errors


def last_run(tmp_path: Path) -> dict[str, Any]:
    lines = (tmp_path / "runs.jsonl").read_text("utf-8").splitlines()
    return json.loads(lines[-1])


def stored(uri: str) -> list[dict[str, Any]]:
    client: Any = pymongo.MongoClient(uri)
    try:
        return list(client[DATABASE]["articles"].find({}, {"url": 1, "sightings": 1}))
    finally:
        client.close()


def assert_each_article_once(uri: str, site: MockServer) -> None:
    documents = stored(uri)
    assert sorted(doc["url"] for doc in documents) == sorted(
        site.url(f"/news/{n}.html") for n in range(ARTICLES)
    )


@pytest.mark.parametrize("fault", ["kill", "freeze"])
def test_server_lost_mid_crawl_spools_then_the_next_run_stores_each_once(
    fault: str, server: Server, tmp_path: Path
) -> None:
    with MockServer() as site:
        (tmp_path / "sources.toml").write_text(build_site(site), "utf-8")
        # Short timeouts: a frozen server must cost the crawl about a second, not a hang.
        timeouts = {"NEWS_MONGO_TIMEOUT_MS": "1000", "NEWS_MONGO_SOCKET_TIMEOUT_MS": "1000"}
        process = crawlall(tmp_path, server.uri, **timeouts)
        wait_for_articles(site, 20)
        if fault == "kill":
            server.kill()
        else:
            server.signal(signal.SIGSTOP)
        status, errors = finish(process)

        assert status == 1, errors[-3000:]
        run = last_run(tmp_path)
        assert run["status"] == "failed"
        assert any("wait in the spool" in problem for problem in run["problems"])
        waiting = run["items"]["spooled"]
        assert 0 < waiting < ARTICLES
        assert len(spool.pending_files(tmp_path / "spool")) == 1

        if fault == "kill":
            server.restart()
        else:
            server.signal(signal.SIGCONT)
        status, errors = finish(crawlall(tmp_path, server.uri, **timeouts))
        assert status == 0, errors[-3000:]
        assert spool.pending_files(tmp_path / "spool") == []
        assert_each_article_once(server.uri, site)


def test_spool_replayed_while_the_server_goes_away_loses_nothing(
    server: Server, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "spool"
    settings = {
        "NEWS_MONGO_URI": server.uri,
        "NEWS_MONGO_DATABASE": DATABASE,
        "NEWS_MONGO_TIMEOUT_MS": 1000,
        "NEWS_MONGO_SOCKET_TIMEOUT_MS": 1000,
        "NEWS_SPOOL_DIR": str(spool_dir),
    }
    items = [article(n, body_text=f"第{n}条。" + chr(0x4E00 + n * 37) * 80) for n in range(30)]
    waiting = spool.SpoolFile(spool_dir)
    waiting.append([Record(item=ItemAdapter(item).asdict(), seen_at=FETCHED) for item in items])
    waiting.close()
    config = StorageConfig.from_settings(make_crawler(**settings).settings)

    store = open_store(config)
    real = store.collection.bulk_write
    batches = iter(range(100))

    def flapping(*args: Any, **kwargs: Any) -> Any:
        if next(batches) == 2:  # two batches in, the server dies
            server.kill()
        return real(*args, **kwargs)

    store.collection.bulk_write = flapping  # type: ignore[method-assign]
    with pytest.raises(PyMongoError):
        spool.replay(spool_dir, store, 5)
    release_client(config)
    assert len(spool.pending_files(spool_dir)) == 1  # kept whole until it is all stored

    server.restart()
    store = open_store(config)
    counts = spool.replay(spool_dir, store, 5)
    release_client(config)
    assert counts["inserted"] + counts["unchanged"] == len(items)
    assert spool.pending_files(spool_dir) == []
    assert len(stored(server.uri)) == len(items)
