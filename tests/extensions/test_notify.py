"""Notifications: what is sent when, the state shared by runs, redaction, and whole crawls telling
a local JSON webhook through apprise."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self

import pytest

from crawler.extensions.notify import (
    FAILED,
    RECOVERED,
    STILL_FAILING,
    Failing,
    StateFile,
    compose,
    decide,
    redact_text,
    redact_url,
    send,
)
from crawler.extensions.runs import build_record
from tests.conftest import ROOT
from tests.mockserver import MockServer

if TYPE_CHECKING:
    from pathlib import Path

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
HTML = {"Content-Type": "text/html; charset=utf-8"}


# --- what is sent when ---------------------------------------------------------------------------


def test_a_spider_turning_unhealthy_is_told_once_per_window_then_once_on_recovery() -> None:
    state: Failing | None = None
    sent = []
    # Every 5 minutes for 2 hours unhealthy, then two healthy runs.
    for minute in range(0, 125, 5):
        kind, state = decide(state, False, T0 + timedelta(minutes=minute), HOUR)
        sent.append((minute, kind))
    for minute in (125, 130):
        kind, state = decide(state, True, T0 + timedelta(minutes=minute), HOUR)
        sent.append((minute, kind))
    assert [(m, k) for m, k in sent if k] == [
        (0, FAILED),
        (60, STILL_FAILING),
        (120, STILL_FAILING),
        (125, RECOVERED),
    ]
    assert state is None


def test_the_state_counts_failed_runs_since_the_first() -> None:
    _, state = decide(None, False, T0, HOUR)
    _, state = decide(state, False, T0 + timedelta(minutes=5), HOUR)
    assert state == Failing(since=T0, failed_runs=2, last_sent=T0)


def test_a_healthy_spider_is_never_told() -> None:
    assert decide(None, True, T0, HOUR) == (None, None)


def test_zero_minutes_repeats_every_failed_run() -> None:
    _, state = decide(None, False, T0, timedelta(0))
    assert decide(state, False, T0, timedelta(0))[0] == STILL_FAILING


# --- the messages ------------------------------------------------------------------------------

STATS: dict[str, Any] = {
    "start_time": T0,
    "finish_time": T0 + timedelta(seconds=42),
    "elapsed_time_seconds": 42.0,
    "finish_reason": "finished",
    "downloader/request_count": 40,
    "downloader/response_status_count/200": 34,
    "downloader/response_status_count/500": 6,
    "response_received_count": 40,
    "item_scraped_count": 20,
    "log_count/ERROR": 6,
}


def failed_record() -> dict[str, Any]:
    record = build_record(STATS, run_id="9f1c", spider="eastmoney", coverage_fields=[], batch="b7")
    record["status"] = "failed"
    record["problems"] = [
        "error ratio 0.15 over 0.05 (6 errors, 40 requests)",
        "coverage of publisher 80% under 95%",
    ]
    return record


def test_one_check_one_run() -> None:
    record = failed_record() | {"problems": ["no items: the spider found no article"]}
    assert compose(FAILED, record, None)[1].startswith("eastmoney failed 1 health check:\n")
    ok = record | {"status": "ok", "problems": []}
    assert (
        "after failing since 2026-12-02 08:00 UTC (1 failed run)."
        in compose(RECOVERED, ok, Failing(T0, 1, T0))[1]
    )


def test_failure_message_names_spider_checks_with_figures_and_run() -> None:
    title, body = compose(FAILED, failed_record(), Failing(T0, 1, T0))
    assert title == "finews eastmoney: failed"
    lines = body.splitlines()
    assert lines[0] == "eastmoney failed 2 health checks:"
    assert lines[1:3] == [
        "- error ratio 0.15 over 0.05 (6 errors, 40 requests)",
        "- coverage of publisher 80% under 95%",
    ]
    assert lines[3].startswith("run 9f1c, batch b7, on ")
    assert lines[3].endswith(", finished 2026-12-02 08:00 UTC")
    assert lines[4].startswith(
        "eastmoney: failed (finished, 42.0 s): 40 requests (200: 34, 500: 6)"
    )


def test_repeat_and_recovery_messages_say_since_when() -> None:
    failing = Failing(since=T0, failed_runs=13, last_sent=T0 + HOUR)
    _, still = compose(STILL_FAILING, failed_record(), failing)
    assert still.startswith(
        "eastmoney failed 2 health checks, still failing since 2026-12-02 08:00 UTC (13 runs):"
    )
    record = failed_record() | {"status": "ok", "problems": []}
    title, body = compose(RECOVERED, record, failing)
    assert title == "finews eastmoney: recovered"
    assert body.startswith(
        "eastmoney is healthy again after failing since 2026-12-02 08:00 UTC (13 failed runs).\n"
        "run 9f1c"
    )


# --- redaction ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "secret", "shown"),
    [
        (
            "json://user:s3cret@127.0.0.1:8080/hook",
            "s3cret",
            "json://user:****@127.0.0.1:8080/hook",
        ),
        # Apprise does not mask headers given in the query: the query is left out.
        ("json://127.0.0.1/hook?+Authorization=Bearer%20t0ken", "t0ken", "json://127.0.0.1/hook"),
        (
            "mailtos://alerts:pa55word@mail.example.org",
            "pa55word",
            "mailtos://alerts:****@mail.example.org/",
        ),
        (
            "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#ops",
            "TIiajkdnlazkcOXrIdevi7FQ",
            "slack://T...2/A...D/T...Q/%23ops/",
        ),
        (
            "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-100123/",
            "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
            "tgram://1...w/-100123/",
        ),
        ("nosuchservice://token-abc@host", "token-abc", "nosuchservice://***"),
    ],
)
def test_notification_urls_are_logged_without_their_secrets(
    url: str, secret: str, shown: str
) -> None:
    assert redact_url(url) == shown
    assert secret not in redact_text(f"could not notify {url} (timeout)")


def test_apprise_own_lines_are_redacted_and_never_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sent = send(
        ["nosuchservice://token-abc@host", "json://u:s3cret@127.0.0.1:9/hook"], "t", "b", FAILED
    )
    assert sent == 0
    assert "token-abc" not in caplog.text
    assert "s3cret" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    warnings = [r.getMessage() for r in caplog.records if r.name == "crawler.extensions.notify"]
    assert warnings == [
        "Notification URL nosuchservice://*** is not one apprise can use; skipped",
        "Could not notify json://u:****@127.0.0.1:9/hook (t); see apprise's message above",
    ]


# --- the state file ------------------------------------------------------------------------------


def test_state_survives_between_processes_and_forgets_a_healthy_spider(tmp_path: Path) -> None:
    path = tmp_path / "state" / "notify.json"
    StateFile(path).update("a", lambda old: (old, Failing(T0, 1, T0)))
    StateFile(path).update("b", lambda old: (old, Failing(T0, 2, T0)))
    # A new StateFile reads what the others wrote, as the next cron run does.
    seen = StateFile(path).update("a", lambda old: (old, None))
    assert seen == Failing(T0, 1, T0)
    assert json.loads(path.read_text()) == {
        "b": {"since": T0.isoformat(), "failed_runs": 2, "last_sent": T0.isoformat()}
    }


def test_an_unreadable_state_file_starts_afresh(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "notify.json"
    path.write_text("{torn")
    assert StateFile(path).update("a", lambda old: (old, None)) is None
    assert "is unreadable" in caplog.text


# --- whole crawls and a webhook ------------------------------------------------------------------


class Webhook:
    """A JSON webhook on 127.0.0.1 that keeps every message POSTed to it."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                hook.messages.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                """Keep test output quiet."""

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self) -> str:
        """Return the apprise URL of this webhook, with a password that must never be logged."""
        return f"json://finews:hook-s3cret@127.0.0.1:{self._httpd.server_address[1]}/alerts"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


LISTING = "/list.html"


def site(healthy: bool) -> dict[str, Any]:
    """Return a site of three articles, or (unhealthy) a listing that links to none."""
    links = "".join(f'<a href="/a/{n}.html">{n}</a>' for n in range(1, 4)) if healthy else ""
    pages = {
        f"/a/{n}.html": (
            200,
            HTML,
            f"<html><body><h1>标题 {n}</h1><time>2026-12-02 09:0{n}</time>"
            f"<p class=publisher>中国证券报</p><div class=body>正文 {n}</div></body></html>".encode(),
        )
        for n in range(1, 4)
    }
    return {LISTING: (200, HTML, f"<html><body>{links}</body></html>".encode()), **pages}


def crawlall(
    tmp_path: Path, server: MockServer, *settings: str
) -> subprocess.CompletedProcess[str]:
    """Run ``scrapy crawlall ops_pages`` on the test project with ``settings`` (NAME=value)."""
    base = {
        "OPS_BASE_URL": server.url(""),
        "NEWS_LOCK_FILE": str(tmp_path / "crawlall.lock"),
        "NEWS_NOTIFY_STATE_FILE": str(tmp_path / "notify-state.json"),
        "LOG_FILE": str(tmp_path / "crawl.log"),
    }
    args = [a for pair in [*(f"{k}={v}" for k, v in base.items()), *settings] for a in ("-s", pair)]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "tests.ops_spiders.settings"}
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "crawlall", "ops_pages", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.e2e
def test_unhealthy_crawl_notifies_once_then_once_on_recovery(tmp_path: Path) -> None:
    with Webhook() as hook, MockServer(site(healthy=False)) as server:
        notify = f"NEWS_NOTIFY_URLS={hook.url()}"
        first = crawlall(tmp_path, server, notify)
        assert first.returncode == 1
        assert len(hook.messages) == 1
        (message,) = hook.messages
        assert message["title"] == "finews ops_pages: failed"
        assert message["type"] == "failure"
        assert "- no items: the spider found no article" in message["message"]

        # Still unhealthy, within NEWS_NOTIFY_REPEAT_MINUTES (60): nobody is told again.
        second = crawlall(tmp_path, server, notify)
        assert second.returncode == 1
        assert len(hook.messages) == 1

        server.routes.update(site(healthy=True))
        recovered = crawlall(tmp_path, server, notify)
        assert recovered.returncode == 0, recovered.stderr
        assert [m["title"] for m in hook.messages] == [
            "finews ops_pages: failed",
            "finews ops_pages: recovered",
        ]
        assert hook.messages[1]["type"] == "success"
        assert "(2 failed runs)." in hook.messages[1]["message"]

        crawlall(tmp_path, server, notify)  # healthy again: nothing to tell
        assert len(hook.messages) == 2
    log = (tmp_path / "crawl.log").read_text()
    assert "hook-s3cret" not in log
    assert "Notified json://finews:****@127.0.0.1:" in log
    assert "Not notifying about ops_pages again: told at " in log


@pytest.mark.e2e
def test_a_failing_notification_target_does_not_change_the_exit_status(tmp_path: Path) -> None:
    # Port 9 (discard) has no listener on 127.0.0.1: every notification is refused.
    dead = "NEWS_NOTIFY_URLS=json://finews:hook-s3cret@127.0.0.1:9/alerts,nosuchservice://t0ken"
    with MockServer(site(healthy=False)) as server:
        failed = crawlall(tmp_path, server, dead)
        server.routes.update(site(healthy=True))
        recovered = crawlall(tmp_path, server, dead)
    assert (failed.returncode, recovered.returncode) == (1, 0), recovered.stderr
    log = (tmp_path / "crawl.log").read_text()
    assert "hook-s3cret" not in log
    assert "t0ken" not in log
    for title in ("finews ops_pages: failed", "finews ops_pages: recovered"):
        assert f"WARNING: Could not notify json://finews:****@127.0.0.1:9/alerts ({title})" in log
    assert log.count("WARNING: Notification URL nosuchservice://*** is not one apprise") == 2
