"""The downloader middlewares in real crawls (subprocesses, :mod:`tests.eventcrawl`) against local
servers: a failing host backs off alone, redirects to ``javascript:`` are not followed, pages over
their size cap are refused before anything reads them."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import FIXTURES, ROOT
from tests.mockserver import MockServer

if TYPE_CHECKING:
    from pathlib import Path

# Whole crawls or commands in subprocesses: `-m 'not e2e'` leaves them out of a quick run.
pytestmark = pytest.mark.e2e

HTML = {"Content-Type": "text/html; charset=utf-8"}
FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "ROBOTSTXT_OBEY": False}


def crawl(tmp_path: Path, requests: list[dict[str, Any]], **job: Any) -> dict[str, Any]:
    """Run :mod:`tests.eventcrawl` on ``requests``; return its events and stats."""
    out = tmp_path / "out.json"
    job = {"requests": requests, "out": str(out), **job}
    job["settings"] = {**FAST, **job.get("settings", {})}
    (tmp_path / "job.json").write_text(json.dumps(job), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "tests.eventcrawl", str(tmp_path / "job.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    outcome["log"] = result.stderr
    return outcome


# --- retry backoff: one host's pause is its own ---------------------------------------------------

BAD = 8
GOOD = 20
RETRY_AFTER = 30  # far longer than the good host's pages take: their order is no race


def test_a_failing_host_backs_off_alone(tmp_path: Path) -> None:
    """Every good-host page is read while the failing host waits, before its retry is sent.

    Before the fix a waiting retry slept in the downloader: the 4 places of CONCURRENT_REQUESTS
    were held by the failing host's retries and the good host's pages waited the 30 s too.
    """
    failing = (503, {**HTML, "Retry-After": str(RETRY_AFTER)}, b"busy")
    page = (200, HTML, b"<html><body><p>ok</p></body></html>")
    with MockServer() as server:
        server.routes.update({f"/bad/{n}.html": [failing, page] for n in range(BAD)})
        server.routes.update({f"/good/{n}.html": page for n in range(GOOD)})
        port = server.port
        bad = [f"http://localhost:{port}/bad/{n}.html" for n in range(BAD)]
        good = [f"http://127.0.0.1:{port}/good/{n}.html" for n in range(GOOD)]
        outcome = crawl(
            tmp_path,
            # The failing host's requests first, and ahead in priority (as its retries are).
            [{"url": url, "priority": 10} for url in bad] + [{"url": url} for url in good],
            settings={
                "CONCURRENT_REQUESTS": 4,
                "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
                "RETRY_TIMES": 1,
                "NEWS_RETRY_BACKOFF_BASE": 0.1,
                "NEWS_RETRY_BACKOFF_MAX": RETRY_AFTER,
            },
            close_after=good,
        )
    events = outcome["events"]
    parsed = [e[1] for e in events if e[0] == "parsed"]
    assert sorted(parsed) == sorted(good)
    retries_sent = [e for e in events if e[0] == "sent" and e[2] > 0]
    assert retries_sent == []  # the spider closed when the good pages were in: none was due
    first_attempts = [e[1] for e in events if e[0] == "sent" and e[1] in bad]
    assert sorted(first_attempts) == sorted(bad)
    stats = outcome["stats"]
    assert stats["news/retry/backoff/held"] == BAD
    assert stats["news/retry/backoff/abandoned"] == BAD
    assert "Backing off localhost for 30.0 s" in outcome["log"]


def test_a_held_retry_is_sent_when_its_host_pause_ends(tmp_path: Path) -> None:
    failing = (503, {**HTML, "Retry-After": "1"}, b"busy")
    page = (200, HTML, b"<html><body><p>ok</p></body></html>")
    with MockServer({"/flaky.html": [failing, page]}) as server:
        url = server.url("/flaky.html")
        outcome = crawl(
            tmp_path,
            [{"url": url}],
            settings={"RETRY_TIMES": 1, "NEWS_RETRY_BACKOFF_BASE": 0.1},
        )
        assert server.count("/flaky.html") == 2
    assert outcome["events"] == [["sent", url, 0], ["sent", url, 1], ["parsed", url, 200, 35]]
    assert outcome["stats"]["news/retry/backoff/held"] == 1
    assert "news/retry/backoff/abandoned" not in outcome["stats"]


# --- redirects that are no web page ---------------------------------------------------------------

JAVASCRIPT_REFRESH = (
    b'<html><head><meta http-equiv=refresh content="0;url=javascript:alert(1)">'
    b"<title>t</title></head><body><p>the article</p></body></html>"
)


@pytest.mark.parametrize(
    "response",
    [
        (200, HTML, JAVASCRIPT_REFRESH),
        (200, HTML, JAVASCRIPT_REFRESH.replace(b"javascript:alert(1)", b"mailto:x@example.com")),
        (302, {**HTML, "Location": "javascript:alert(1)"}, b"<html><body>moved</body></html>"),
    ],
    ids=["meta-refresh-javascript", "meta-refresh-mailto", "location-javascript"],
)
def test_a_redirect_to_no_web_page_is_not_followed(
    tmp_path: Path, response: tuple[int, dict[str, str], bytes]
) -> None:
    """Before the fix Scrapy raised ``ValueError: Missing scheme``: the page was lost."""
    with MockServer({"/page.html": response}) as server:
        url = server.url("/page.html")
        outcome = crawl(
            tmp_path, [{"url": url}], settings={"HTTPERROR_ALLOW_ALL": True, "RETRY_TIMES": 0}
        )
    status, _, body = response
    assert outcome["events"] == [["sent", url, 0], ["parsed", url, status, len(body)]]
    assert outcome["stats"]["news/redirect/not_followed"] == 1
    assert "Not following a redirect" in outcome["log"]


def test_a_meta_refresh_to_a_web_page_is_still_followed(tmp_path: Path) -> None:
    with MockServer() as server:
        target = server.url("/target.html")
        refresh = f'<html><head><meta http-equiv=refresh content="0;url={target}"></head></html>'
        server.routes.update(
            {
                "/page.html": (200, HTML, refresh.encode()),
                "/target.html": (200, HTML, b"<html><body>here</body></html>"),
            }
        )
        outcome = crawl(tmp_path, [{"url": server.url("/page.html")}])
    assert [e for e in outcome["events"] if e[0] == "parsed"] == [["parsed", target, 200, 30]]
    assert "news/redirect/not_followed" not in outcome["stats"]


def test_scrapy_extract_reads_a_page_whose_refresh_is_javascript() -> None:
    page = JAVASCRIPT_REFRESH.replace(
        b"<p>the article</p>", (FIXTURES / "pages" / "163_1.html").read_bytes()
    )
    with MockServer({"/page.html": (200, HTML, page)}) as server:
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "extract", "--nolog", server.url("/page.html")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["source"] == "证券市场红周刊"


# --- the size cap: before download, before extraction ---------------------------------------------


def test_a_page_over_its_cap_is_cancelled_and_counted(tmp_path: Path) -> None:
    big = (200, HTML, b"<html><body>" + b"<p>x</p>" * 20_000 + b"</body></html>")
    small = (200, HTML, b"<html><body><p>ok</p></body></html>")
    with MockServer({"/big.html": big, "/small.html": small}) as server:
        requests = [
            {"url": server.url("/big.html"), "meta": {"download_maxsize": 100_000}},
            {"url": server.url("/small.html"), "meta": {"download_maxsize": 100_000}},
        ]
        outcome = crawl(tmp_path, requests, settings={"RETRY_TIMES": 0})
    assert ["failed", server.url("/big.html"), "DownloadCancelledError"] in outcome["events"]
    assert ["parsed", server.url("/small.html"), 200, 35] in outcome["events"]
    assert outcome["stats"]["news/download/too_large"] == 1
    assert f"Page too large, not read: {server.url('/big.html')}" in outcome["log"]


def test_a_file_over_the_cap_is_refused_before_extraction(tmp_path: Path) -> None:
    page = tmp_path / "big.html"
    page.write_bytes(b"<html><body>" + b"<p>x</p>" * 20_000 + b"</body></html>")
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "extract", "-s", "DOWNLOAD_MAXSIZE=100000", str(page)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"Page too large, not read: {page.as_uri()}" in result.stderr
    assert "'news/download/too_large': 1" in result.stderr
    size = page.stat().st_size
    assert f"extract: {page}: too_large: {size} bytes, more than the 100000 allowed" in (
        result.stderr
    )
