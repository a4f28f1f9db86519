"""Notifications: tell people (mail, Slack, Telegram, Matrix, a webhook…) when a spider's run
fails its health checks, and once when it recovers.

The :class:`Notifier` extension listens for the run recorder's
:data:`~crawler.extensions.runs.run_closed` signal and sends through apprise to every URL of
``NEWS_NOTIFY_URLS``. While a spider stays unhealthy it is told about at most once per
``NEWS_NOTIFY_REPEAT_MINUTES``; what was last told is kept per spider in a small JSON file
(``NEWS_NOTIFY_STATE_FILE``), not in MongoDB, because a failing MongoDB is one of the things
worth telling about, and cron starts a new process for every run. A notification that cannot be
sent is logged as a warning and never fails the crawl. Notification URLs carry tokens and
passwords: they are only ever logged through :func:`redact_url`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import NotConfigured

from crawler.commands.runs import as_time
from crawler.extensions.runs import STATUS_FAILED, STATUS_OK, run_closed, summary_line
from crawler.extensions.shared_file import locked, replace_text
from crawler.options import option

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

FAILED = "failed"
STILL_FAILING = "still failing"
RECOVERED = "recovered"
#: apprise's message type (``apprise.NotifyType``) of each kind of message.
_NOTIFY_TYPES = {FAILED: "failure", STILL_FAILING: "failure", RECOVERED: "success"}
_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.I)


def redact_url(url: str) -> str:
    """Return a notification URL fit for a log: apprise's privacy form, without the query.

    Apprise masks each service's secrets (passwords, tokens) itself; the query is left out
    because it may carry secrets apprise does not mask (``json://…?+Authorization=…`` headers).
    A URL apprise cannot parse keeps only its scheme.
    """
    service = parse_url(url)
    if not service:
        scheme, _, _ = url.partition("://")
        return f"{scheme}://***"
    return str(service.url(privacy=True)).partition("?")[0]


def redact_text(text: str) -> str:
    """Return ``text`` with every URL in it redacted by :func:`redact_url`."""
    return _URL.sub(lambda match: redact_url(match.group()), text)


def parse_url(url: str) -> Any:
    """Return apprise's service for ``url``, ``None`` when apprise cannot use it.

    Apprise's own lines about it (an unparseable URL is logged whole, at ERROR) are dropped: the
    caller says what went wrong, redacted.
    """
    apprise = _apprise()
    _parsing.active = True
    try:
        return apprise.Apprise.instantiate(url)
    finally:
        _parsing.active = False


class _AppriseLogFilter(logging.Filter):
    """Keep apprise's own log lines from leaking URLs, and from counting as crawl errors.

    Scrapy counts every ERROR line against the run's health (``log_count/ERROR``): apprise's
    lines are redacted and logged at WARNING at most; those it logs while :func:`parse_url`
    parses are dropped.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(_parsing, "active", False):
            return False
        record.msg = redact_text(record.getMessage())
        record.args = ()
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_parsing = threading.local()
_APPRISE_LOG_FILTER = _AppriseLogFilter()


def _apprise() -> Any:
    """Return the apprise module, its logger redacted (:class:`_AppriseLogFilter`).

    Imported on first use, so that crawls notifying nobody (the extension is enabled for all)
    do not load it (40 ms of a crawl's start).
    """
    import apprise

    apprise_logger = logging.getLogger("apprise")
    if _APPRISE_LOG_FILTER not in apprise_logger.filters:
        apprise_logger.addFilter(_APPRISE_LOG_FILTER)
    return apprise


@dataclass(frozen=True)
class Failing:
    """What the state file keeps of a spider while it is unhealthy."""

    since: datetime
    failed_runs: int
    last_sent: datetime

    def to_json(self) -> dict[str, Any]:
        """Return the entry as JSON values."""
        return {key: _json_value(value) for key, value in asdict(self).items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """Read an entry written by :meth:`to_json`."""
        return cls(
            since=datetime.fromisoformat(data["since"]),
            failed_runs=int(data["failed_runs"]),
            last_sent=datetime.fromisoformat(data["last_sent"]),
        )


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def decide(
    failing: Failing | None, healthy: bool, now: datetime, repeat: timedelta
) -> tuple[str | None, Failing | None]:
    """Return what to send about a run (:data:`FAILED`, :data:`STILL_FAILING`,
    :data:`RECOVERED` or ``None``) and the spider's state after it (``None``: healthy)."""
    if healthy:
        return (RECOVERED if failing else None), None
    if failing is None:
        return FAILED, Failing(since=now, failed_runs=1, last_sent=now)
    counted = replace(failing, failed_runs=failing.failed_runs + 1)
    if now - failing.last_sent >= repeat:
        return STILL_FAILING, replace(counted, last_sent=now)
    return None, counted


def _when(value: Any) -> str:
    """Format a record's time (a datetime, or ISO text from a file) as ``YYYY-MM-DD HH:MM UTC``."""
    moment = as_time(value)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "?"


def _count(number: int, noun: str) -> str:
    """Return ``1 run``, ``2 runs``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def compose(kind: str, record: Mapping[str, Any], failing: Failing | None) -> tuple[str, str]:
    """Return the title and body of a message about the run ``record``.

    ``failing``: the spider's state before this run (for a recovery: since when it failed).
    """
    spider = record["spider"]
    where = (
        f"run {record['_id']}"
        + (f", batch {record['batch']}" if record.get("batch") else "")
        + f", on {record.get('host', '?')}, finished {_when(record.get('finished_at'))}"
    )
    if kind == RECOVERED:
        since = f" since {_when(failing.since)}" if failing else ""
        runs = f" ({_count(failing.failed_runs, 'failed run')})" if failing else ""
        body = f"{spider} is healthy again after failing{since}{runs}.\n{where}\n"
        return f"finews {spider}: recovered", body + summary_line(record)
    problems = record.get("problems") or []
    checks = "\n".join(f"- {problem}" for problem in problems)
    lead = f"{spider} failed {_count(len(problems), 'health check')}"
    if kind == STILL_FAILING and failing is not None:
        runs = _count(failing.failed_runs, "run")
        lead += f", still failing since {_when(failing.since)} ({runs})"
    body = f"{lead}:\n{checks}\n{where}\n{summary_line(record)}"
    return f"finews {spider}: {kind}", body


def send(urls: list[str], title: str, body: str, kind: str) -> int:
    """Send the message to every URL; return how many took it. Failures are logged, not raised."""
    sent = 0
    for url in urls:
        where = redact_url(url)
        try:
            service = parse_url(url)
            if not service:
                logger.warning("Notification URL %s is not one apprise can use; skipped", where)
                continue
            notify_type = _apprise().NotifyType(_NOTIFY_TYPES[kind])
            if service.notify(body=body, title=title, notify_type=notify_type):
                sent += 1
                logger.info("Notified %s: %s", where, title)
            else:
                logger.warning(
                    "Could not notify %s (%s); see apprise's message above", where, title
                )
        except Exception as error:  # a plugin's bug must not fail the crawl either
            logger.warning(
                "Could not notify %s (%s): %s: %s",
                where,
                title,
                type(error).__name__,
                redact_text(str(error)),
            )
    return sent


class StateFile:
    """The per-spider notification state, a JSON file shared by every crawl process.

    Read, decided on and written under a lock (:func:`~crawler.extensions.shared_file.locked`),
    so two processes closing at once send one message; replaced whole, so a crash leaves the old
    state or the new.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def update(self, spider: str, change: Any) -> Any:
        """Call ``change(entry)`` with the spider's entry under the lock; store what it returns
        second (``None`` removes the entry); return what it returns first."""
        with locked(self.path):
            state = self._read()
            entry = state.get(spider)
            result, new = change(Failing.from_json(entry) if entry else None)
            if new is None:
                state.pop(spider, None)
            else:
                state[spider] = new.to_json()
            replace_text(self.path, json.dumps(state, indent=1, sort_keys=True))
            return result

    def _read(self) -> dict[str, Any]:
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            logger.warning("Notification state %s is unreadable (%s); starting afresh", self.path,
                           error)  # fmt: skip
            return {}
        return state if isinstance(state, dict) else {}


class Notifier:
    """Send a message when a run fails its health checks, and once when its spider recovers."""

    def __init__(self, urls: list[str], state: StateFile, repeat: timedelta) -> None:
        self.urls = urls
        self.state = state
        self.repeat = repeat

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        urls = option(crawler.settings, "NEWS_NOTIFY_URLS")
        if not urls or not option(crawler.settings, "NEWS_RUNS_ENABLED"):
            raise NotConfigured
        notifier = cls(
            urls,
            StateFile(option(crawler.settings, "NEWS_NOTIFY_STATE_FILE")),
            timedelta(minutes=option(crawler.settings, "NEWS_NOTIFY_REPEAT_MINUTES")),
        )
        crawler.signals.connect(notifier.run_closed, signal=run_closed)
        return notifier

    def run_closed(self, record: dict[str, Any]) -> None:
        """Notify about the finished run ``record`` if its spider's state says so."""
        if record.get("status") not in (STATUS_OK, STATUS_FAILED):
            return
        try:
            self.state.update(record["spider"], lambda failing: self._notify(record, failing))
        except OSError as error:
            logger.warning(
                "Notification state %s cannot be kept (%s): nobody was told about run %s",
                self.state.path,
                error,
                record["_id"],
            )

    def _notify(
        self, record: dict[str, Any], failing: Failing | None
    ) -> tuple[None, Failing | None]:
        """Decide, send what is due (under the state lock), return the spider's new state."""
        healthy = record["status"] == STATUS_OK
        kind, new = decide(failing, healthy, datetime.now(UTC), self.repeat)
        if kind is None:
            if not healthy and failing is not None:
                logger.info(
                    "Not notifying about %s again: told at %s, repeated every %s",
                    record["spider"],
                    _when(failing.last_sent),
                    self.repeat,
                )
            return None, new
        # The failure counted in the message includes this run.
        title, body = compose(kind, record, new if new is not None else failing)
        send(self.urls, title, body, kind)
        return None, new
