"""One MongoDB client per process: every component shares it, the last to give it back closes it."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from crawler.sources.eastmoney import fast_news_url
from crawler.store.mongo import StorageConfig, acquire_client, release_client
from tests.conftest import FIXTURES, ROOT, make_crawler
from tests.mockserver import MockServer

if TYPE_CHECKING:
    from pathlib import Path


class FakeClient:
    """A client that knows whether it was closed."""

    def __init__(self, uri: str, **options: Any) -> None:
        self.uri = uri
        self.options = options
        self.closed = False

    def close(self) -> None:
        self.closed = True


def config(**settings: Any) -> StorageConfig:
    """Return the storage config of the project's settings plus ``settings``."""
    return StorageConfig.from_settings(make_crawler(**settings).settings)


def test_users_of_one_server_share_one_client_closed_by_the_last() -> None:
    built: list[FakeClient] = []

    def factory(uri: str, **options: Any) -> FakeClient:
        built.append(FakeClient(uri, **options))
        return built[-1]

    storage = config(NEWS_MONGO_URI="mongodb://db.test", NEWS_MONGO_CLIENT_FACTORY=factory)
    first, second = acquire_client(storage), acquire_client(storage)
    assert first is second
    assert len(built) == 1
    release_client(storage)
    assert not first.closed
    release_client(storage)
    assert first.closed
    # Once closed, the next user gets a new client.
    assert acquire_client(storage) is not first
    release_client(storage)


def test_another_server_gets_its_own_client() -> None:
    a = config(NEWS_MONGO_URI="mongodb://a.test", NEWS_MONGO_CLIENT_FACTORY=FakeClient)
    b = config(NEWS_MONGO_URI="mongodb://b.test", NEWS_MONGO_CLIENT_FACTORY=FakeClient)
    client_a, client_b = acquire_client(a), acquire_client(b)
    assert (client_a.uri, client_b.uri) == ("mongodb://a.test", "mongodb://b.test")
    release_client(a)
    release_client(b)
    assert client_a.closed
    assert client_b.closed


@pytest.mark.e2e
def test_a_crawl_with_storage_on_builds_one_client(tmp_path: Path) -> None:
    # The spider's lookups (KnownArticles), the storage stage and the run recorder all use
    # MongoDB in this crawl; before they shared a client, it built three.
    listing = (FIXTURES / "eastmoney" / "FIXTURE_em_getFastNewsList_response.json").read_bytes()
    with MockServer(ignore_params={"req_trace"}) as server:
        api = server.url("/comm/web/getFastNewsList")
        server.routes[fast_news_url(api, "", 100)] = (
            200,
            {"Content-Type": "application/json"},
            listing,
        )
        job = {
            "spider": "eastmoney_724",
            "args": {"pages": 1},
            "settings": {
                "NEWS_EASTMONEY_FAST_API": api,
                "NEWS_EASTMONEY_724_FETCH_PAGES": "never",
                "NEWS_MONGO_URI": "mongodb://localhost:27017",
                "NEWS_MONGO_VALIDATOR": False,  # mongomock has no collMod
                "NEWS_SPOOL_DIR": str(tmp_path / "spool"),
                "NEWS_RUNS_ENABLED": True,
                "NEWS_HEALTH_EXPECT_ITEMS": False,
                "ROBOTSTXT_OBEY": False,
                "AUTOTHROTTLE_ENABLED": False,
                "DOWNLOAD_DELAY": 0,
            },
            "out": str(tmp_path / "out.json"),
        }
        (tmp_path / "job.json").write_text(json.dumps(job), "utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "tests.crawlrun", str(tmp_path / "job.json")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads((tmp_path / "out.json").read_text("utf-8"))
    assert outcome["stats"].get("news/store/inserted", 0) > 0
    assert outcome["stats"]["news/run/status"]
    assert outcome["clients"] == 1
