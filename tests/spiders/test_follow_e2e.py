"""``scrapy crawl eastmoney_724 -a follow=0.2s`` against a 7×24 listing that publishes while it is
followed (issue 20): every flash stored once, none skipped; polls back off and recover.

The local listing answers by poll (a request for the newest page), four flashes to a page:

1. flashes 1–3, with an ``ETag``;
2. ``304 Not Modified`` (the poll asked with ``If-None-Match``): nothing new;
3. a burst, flashes 1–14: the walk reads two pages (the first entirely new), its limit
   (``pages=2``), and stays unfinished;
4. ``500``; 5. ``429`` with ``Retry-After: 1``;
6. flashes 1–16 (the follower recovered): the walk resumes the unfinished one, walks past its
   frontier to flashes 4–6 and stops at a page holding stored flashes;
7 and later: the same sixteen, no validators: nothing new, so the polls space out.

The crawl runs in a subprocess (``tests/crawlrun.py``, mongomock storage) and is stopped with
SIGTERM once poll 9 arrived.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import ROOT
from tests.mockserver import MockServer
from tests.spiders.test_eastmoney_crawl import body_paragraphs

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from tests.mockserver import Response

pytestmark = pytest.mark.e2e

JSON = {"Content-Type": "application/json; charset=utf-8"}
PAGE = 4
INTERVAL = 0.2
LAST_POLL = 9
DEADLINE = 60.0


def flash(n: int) -> dict[str, Any]:
    """Flash ``n``: a list item that makes an article by itself (no page request)."""
    code = f"2026011000{n:08d}"
    text = body_paragraphs(code, 1)[0]
    return {
        "code": code,
        "title": f"快讯{n}",
        "summary": f"【快讯{n}】{text}",
        "showTime": f"2026-01-10 09:{n:02d}:00",
        "realSort": str(1000 + n),
        "stockList": [],
        "image": [],
    }


class Publisher:
    """The listing, answering by poll number; records when each poll came and its headers."""

    def __init__(self) -> None:
        self.polls: list[tuple[float, dict[str, str]]] = []
        self.published = 0
        self.done = threading.Event()

    def __call__(self, path: str, headers: Mapping[str, str]) -> Response:
        query = parse_qs(urlsplit(path).query)
        sort_end = query.get("sortEnd", [""])[0]
        if sort_end:  # a deeper page of the current listing
            return self.page(self.published, int(sort_end), {})
        self.polls.append((time.monotonic(), dict(headers)))
        poll = len(self.polls)
        if poll >= LAST_POLL:
            self.done.set()
        if poll == 2 and headers.get("If-None-Match") == '"e3"':
            return (304, {}, b"")
        answers: dict[int, Response] = {
            4: (500, JSON, b"{}"),
            5: (429, {**JSON, "Retry-After": "1"}, b"{}"),
        }
        if poll in answers:
            return answers[poll]
        self.published = {1: 3, 3: 14}.get(poll, 16)
        etag = {"ETag": f'"e{self.published}"'} if poll < 7 else {}
        return self.page(self.published, None, etag)

    @staticmethod
    def page(published: int, before: int | None, headers: dict[str, str]) -> Response:
        """The page of up to four flashes older than cursor ``before`` (newest first)."""
        items = [flash(n) for n in range(published, 0, -1)]
        if before is not None:
            items = [i for i in items if int(i["realSort"]) < before]
        body = {"code": 1, "message": "success", "data": {"fastNewsList": items[:PAGE]}}
        return (200, {**JSON, **headers}, json.dumps(body, ensure_ascii=False).encode())


@pytest.fixture(scope="module")
def followed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Publisher, Path]:
    """Follow the publishing listing until poll 9, then SIGTERM; the crawl's outcome."""
    tmp = tmp_path_factory.mktemp("follow")
    publisher = Publisher()
    with MockServer({"/comm/web/getFastNewsList": publisher}) as server:
        job = {
            "spider": "eastmoney_724",
            "args": {"follow": f"{INTERVAL}s", "page_size": PAGE, "pages": 2},
            "settings": {
                "NEWS_EASTMONEY_FAST_API": server.url("/comm/web/getFastNewsList"),
                "AUTOTHROTTLE_ENABLED": False,
                "DOWNLOAD_DELAY": 0,
                "LOG_LEVEL": "INFO",
                "NEWS_MONGO_URI": "mongodb://localhost:27017",
                "NEWS_MONGO_VALIDATOR": False,  # mongomock has no collMod
                "NEWS_SPOOL_DIR": str(tmp / "spool"),
                "NEWS_RUNS_ENABLED": True,
                "NEWS_RUNS_MONGO": False,
                "NEWS_RUNS_FILE": str(tmp / "runs.jsonl"),
                "NEWS_FOLLOW_BACKOFF": 2.0,
                "NEWS_FOLLOW_JITTER": 0.0,
                "NEWS_FOLLOW_MAX_DELAY": 5.0,
                "NEWS_FOLLOW_RECORD_POLLS": 3,
            },
            "finish_reasons": ["shutdown"],
            "out": str(tmp / "out.json"),
        }
        (tmp / "job.json").write_text(json.dumps(job), "utf-8")
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.crawlrun", str(tmp / "job.json")],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        arrived = publisher.done.wait(DEADLINE)
        process.send_signal(signal.SIGTERM)
        log, _ = process.communicate(timeout=DEADLINE)
    (tmp / "crawl.log").write_text(log, "utf-8")
    assert arrived, log[-3000:]
    assert process.returncode == 0, log[-3000:]
    return json.loads((tmp / "out.json").read_text("utf-8")), publisher, tmp


def test_every_published_flash_is_stored_once(followed: tuple[Any, Publisher, Path]) -> None:
    outcome, _, _ = followed
    codes = [d["native_id"] for d in outcome["documents"]]
    assert sorted(codes) == sorted(flash(n)["code"] for n in range(1, 17))
    stats = outcome["stats"]
    assert stats["news/store/inserted"] == 16
    assert "news/store/updated" not in stats
    # The burst: the first page entirely new, so the walk went on to its limit; the next poll
    # resumed it past its frontier and stopped at stored flashes.
    assert stats["news/eastmoney/stop/max_pages"] == 1
    assert stats["news/walk/resumed"] == 1
    assert stats["news/walk/passed"] == 1
    assert stats["news/eastmoney/stop/reached_known"] >= 1
    assert all(d["first_seen_at"] and d["published_at"] for d in outcome["documents"])


def test_polls_are_conditional_and_back_off_and_recover(
    followed: tuple[Any, Publisher, Path],
) -> None:
    outcome, publisher, _ = followed
    times = [at for at, _ in publisher.polls]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert publisher.polls[1][1].get("If-None-Match") == '"e3"'
    stats = outcome["stats"]
    assert stats["news/follow/not_modified"] == 1
    assert stats["news/follow/failed"] == 2
    assert stats["news/follow/retry_after"] == 1
    assert stats["news/follow/new"] == 3  # polls 1, 3 and 6: recovered after the failures
    # Pauses (lower bounds only): 2 after a 304, 4 after the 500, 5 after the 429, 7-9 unchanged.
    assert gaps[1] >= INTERVAL * 2  # one poll with nothing new: doubled
    assert gaps[3] >= INTERVAL * 2  # one failure: doubled
    assert gaps[4] >= 1.0  # Retry-After: 1 (back-off alone would say 0.8)
    assert gaps[7] >= INTERVAL * 4  # two polls in a row with nothing new


def test_sigterm_ends_a_healthy_run_with_period_records(
    followed: tuple[Any, Publisher, Path],
) -> None:
    _, _, tmp = followed
    records = [json.loads(line) for line in (tmp / "runs.jsonl").read_text("utf-8").splitlines()]
    *periods, final = records
    assert final["finish_reason"] == "shutdown"
    assert final["status"] == "ok", final["problems"]
    assert final["items"]["stored"] == 16
    assert len(periods) >= 3  # every 3 polls, and the last period at the stop
    assert [p["period"] for p in periods] == list(range(1, len(periods) + 1))
    assert {p["run"] for p in periods} == {final["_id"]}
    assert sum(p["items"]["stored"] for p in periods) == 16
