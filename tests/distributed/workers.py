"""Workers of a batch for tests and the bench: a local site of listings and articles, and
``scrapy crawl site`` processes sharing one Redis and one MongoDB-protocol server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

from tests.conftest import ROOT
from tests.localsite import HTML, article_page, serve_listing, site_source

if TYPE_CHECKING:
    from pathlib import Path

    from tests.mockserver import MockServer

SOURCE = "batchsite"
LISTINGS = ("a", "b", "c")
PER_PAGE = 50


def build_site(
    server: MockServer, articles: int, delay: float = 0, concurrency: int = 8
) -> tuple[str, list[str], list[str]]:
    """Serve ``articles`` articles over the listings ``/a/``, ``/b/``, ``/c/``, ``PER_PAGE`` a
    page, newest first; return the sources file (the source's ``download_delay`` and
    ``concurrency`` as given) and the listing and article paths."""
    article_paths = [f"/news/{n}.html" for n in range(articles)]
    share = -(-articles // len(LISTINGS))
    starts = []
    for index, name in enumerate(LISTINGS):
        paths = article_paths[index * share : (index + 1) * share]
        starts.append(serve_listing(server, paths, PER_PAGE, prefix=f"/{name}"))
    for number, path in enumerate(article_paths):
        day = 28 - number % 20
        page = article_page(f"批次测试新闻{number}", f"2026-11-{day:02d} 08:00", f"b{number}")
        server.routes[path] = (200, HTML, page)
    listing_paths = [path for path in server.routes if not path.startswith("/news/")]
    return (
        site_source(SOURCE, "批次测试网", starts, delay, concurrency),
        listing_paths,
        article_paths,
    )


def start_worker(
    tmp_path: Path,
    redis_url: str,
    mongo_uri: str,
    database: str,
    batch: str,
    command: tuple[str, ...] = ("crawl", "site", "-a", f"source={SOURCE}"),
    **settings: str,
) -> subprocess.Popen[str]:
    """Start one worker of ``batch``: ``scrapy crawl site`` (or ``command``) over the sources
    file in ``tmp_path``, its run records appended to ``tmp_path/runs.jsonl``."""
    env = {
        **os.environ,
        "NEWS_REDIS_URL": redis_url,
        "NEWS_BATCH_ID": batch,
        "NEWS_REDIS_LEASE_SECONDS": "2",
        "NEWS_MONGO_URI": mongo_uri,
        "NEWS_MONGO_DATABASE": database,
        "NEWS_SOURCES_FILE": str(tmp_path / "sources.toml"),
        "NEWS_SPOOL_DIR": str(tmp_path / "spool"),
        "NEWS_RUNS_FILE": str(tmp_path / "runs.jsonl"),
        "NEWS_PROGRESS_INTERVAL": "600",
        **settings,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "scrapy", *command, "-s", "AUTOTHROTTLE_ENABLED=0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def finish(workers: list[subprocess.Popen[str]], timeout: float = 180) -> list[tuple[int, str]]:
    """Wait for every worker; return each one's exit status and log."""
    deadline = time.monotonic() + timeout
    outcomes = []
    for worker in workers:
        _, errors = worker.communicate(timeout=max(1.0, deadline - time.monotonic()))
        outcomes.append((worker.returncode, errors))
    return outcomes


def run_records(tmp_path: Path) -> list[dict[str, Any]]:
    """Return the run records the workers (and the batch) appended."""
    path = tmp_path / "runs.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]
