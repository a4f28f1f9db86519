"""``scrapy runs``: the recent crawls at a glance, from their run records.

Reads ``crawl_runs`` in MongoDB (``NEWS_RUNS_MONGO``, ``NEWS_RUNS_COLLECTION``), or the
JSON-lines file ``NEWS_RUNS_FILE`` when runs are not recorded in MongoDB or it cannot be
reached. One line per run, newest first: spider, start in local time, duration, pages, stored,
duplicates, dropped, errors, health and problems; ``--json`` prints the records for scripts.
Besides a crawl's own record (kind ``run``) the store holds batch summaries (``kind: "batch"``,
:mod:`crawler.distributed.batch`) and a following crawl's period records (``period``): when any
is listed, a ``kind`` column after the spider tells them apart; ``--kind`` lists only some kinds.

Exit status: 0 when the latest finished run (of the kinds asked for) of every spider listed is
healthy, 1 when one is not (so the command serves as a monitoring check), 2 when the records
cannot be read.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pymongo import DESCENDING
from pymongo.errors import PyMongoError
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.extensions.runs import STATUS_FAILED, STATUS_OK, STATUS_RUNNING
from crawler.options import option
from crawler.store.mongo import StorageConfig, acquire_client, redact_uri, release_client

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable, Iterator, Sequence

    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_UNHEALTHY = 1
EXIT_UNREADABLE = 2
#: ``--since`` units.
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
#: The table's columns: heading, and whether it is right-aligned (a number).
COLUMNS: tuple[tuple[str, bool], ...] = (
    ("spider", False),
    ("start", False),
    ("duration", True),
    ("pages", True),
    ("stored", True),
    ("dup", True),
    ("dropped", True),
    ("errors", True),
    ("health", False),
    ("problems", False),
)
HEALTH = {STATUS_OK: "ok", STATUS_FAILED: "FAILED", STATUS_RUNNING: "running"}
#: The kinds of record: a crawl's own, a batch's summary, a following crawl's period.
RUN, BATCH, PERIOD = "run", "batch", "period"
KINDS = (RUN, BATCH, PERIOD)
#: The MongoDB filter of each kind (as :func:`record_kind` tells them).
KIND_FILTERS: dict[str, dict[str, Any]] = {
    RUN: {"kind": {"$exists": False}, "period": {"$exists": False}},
    BATCH: {"kind": BATCH},
    PERIOD: {"kind": {"$exists": False}, "period": {"$exists": True}},
}


def parse_since(text: str) -> timedelta:
    """Return the span ``6h``, ``30m``, ``2d``, ``1w``, ``90s`` stands for."""
    match = _SINCE.match(text)
    if not match:
        raise UsageError(f"--since {text!r}: give a number and a unit, s, m, h, d or w (6h, 2d)")
    return timedelta(seconds=float(match[1]) * UNITS[match[2]])


def as_time(value: Any) -> datetime | None:
    """Return a record's time as an aware UTC datetime: from MongoDB (naive, UTC) or a file
    (ISO 8601 text); ``None`` when there is none."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def record_kind(record: dict[str, Any]) -> str:
    """Return the kind of a record: ``batch`` (a batch summary), ``period`` (a following crawl's
    period record, which carries its ``period`` number) or ``run``."""
    if record.get("kind") == BATCH:
        return BATCH
    return PERIOD if "period" in record else RUN


def normalised(record: dict[str, Any]) -> dict[str, Any]:
    """Return ``record`` with its times as aware datetimes, whichever sink wrote it."""
    return record | {key: as_time(record.get(key)) for key in ("started_at", "finished_at")}


@dataclass(frozen=True)
class Query:
    """Which runs to list: ``last`` at most, newest first, of ``spiders`` (empty: all)."""

    last: int
    spiders: tuple[str, ...] = ()
    failed: bool = False
    since: datetime | None = None
    #: Kinds of record (:data:`KINDS`); empty: every kind.
    kinds: tuple[str, ...] = ()

    def matches(self, record: dict[str, Any]) -> bool:
        """Tell whether a (normalised) record is one of those asked for."""
        if self.spiders and record.get("spider") not in self.spiders:
            return False
        if self.kinds and record_kind(record) not in self.kinds:
            return False
        if self.failed and record.get("status") != STATUS_FAILED:
            return False
        started = record.get("started_at")
        return self.since is None or (started is not None and started >= self.since)

    def mongo_filter(self) -> dict[str, Any]:
        """Return the MongoDB filter of :meth:`matches`."""
        found: dict[str, Any] = {}
        if self.spiders:
            found["spider"] = {"$in": list(self.spiders)}
        if self.failed:
            found["status"] = STATUS_FAILED
        if self.since is not None:
            # Stored naive in UTC, as pymongo returns them.
            found["started_at"] = {"$gte": self.since.replace(tzinfo=None)}
        if self.kinds:
            found["$or"] = [KIND_FILTERS[kind] for kind in self.kinds]
        return found


def _newest_first(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(records, key=lambda r: r.get("started_at") or epoch, reverse=True)


def select(records: Iterable[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
    """Return the normalised records ``query`` asks for, newest first."""
    chosen = [r for r in map(normalised, records) if query.matches(r)]
    return _newest_first(chosen)[: query.last]


def latest_verdicts(
    records: Iterable[dict[str, Any]], kinds: tuple[str, ...] = ()
) -> dict[str, str]:
    """Return the status of each spider's latest finished run (``ok`` or ``failed``), among the
    records of ``kinds`` (empty: every kind)."""
    verdicts: dict[str, str] = {}
    for record in _newest_first(map(normalised, records)):
        if kinds and record_kind(record) not in kinds:
            continue
        if record.get("status") in (STATUS_OK, STATUS_FAILED):
            verdicts.setdefault(record["spider"], record["status"])
    return verdicts


def exit_status(verdicts: dict[str, str], listed: Iterable[dict[str, Any]]) -> int:
    """Return 1 when the latest run of any spider in ``listed`` failed, else 0."""
    spiders = {record["spider"] for record in listed}
    failing = any(verdicts.get(spider) == STATUS_FAILED for spider in spiders)
    return EXIT_UNHEALTHY if failing else EXIT_OK


def format_duration(seconds: Any) -> str:
    """Return ``42.0 s``, ``3 m 05 s`` or ``2 h 01 m``; ``-`` when unknown."""
    if not isinstance(seconds, int | float):
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} m {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} m"


def kind_cell(record: dict[str, Any]) -> str:
    """Return what the ``kind`` column shows of a record: ``run``, ``batch``, ``period 3``."""
    kind = record_kind(record)
    return f"{PERIOD} {record['period']}" if kind == PERIOD else kind


def row(record: dict[str, Any], zone: tzinfo | None = None, kinds: bool = False) -> list[str]:
    """Return a run's cells; times in ``zone`` (``None``: the machine's local zone); ``kinds``:
    with the ``kind`` cell after the spider's."""
    items = record.get("items") or {}
    duplicate = items.get("duplicate") or {}
    started = record.get("started_at")
    status = record.get("status", "")
    return [
        str(record.get("spider", "?")),
        *([kind_cell(record)] if kinds else []),
        started.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if started else "-",
        format_duration(record.get("elapsed_s")),
        str((record.get("responses") or {}).get("received", 0)),
        str(items.get("stored", 0)),
        str(duplicate.get("exact", 0) + duplicate.get("near", 0)),
        str(items.get("dropped", 0)),
        str((record.get("errors") or {}).get("count", 0)),
        HEALTH.get(status, status),
        "; ".join(record.get("problems") or []),
    ]


def table(records: Sequence[dict[str, Any]], zone: tzinfo | None = None) -> str:
    """Return the runs as an aligned text table, a heading line first; a ``kind`` column after
    the spider when any record is not a crawl's own (a batch summary, a period)."""
    now = datetime.now(UTC).astimezone(zone)
    kinds = any(record_kind(record) != RUN for record in records)
    columns = (COLUMNS[0], ("kind", False), *COLUMNS[1:]) if kinds else COLUMNS
    headings = [name if name != "start" else f"start ({now:%Z})" for name, _ in columns]
    rows = [headings, *(row(record, zone, kinds) for record in records)]
    widths = [max(len(cells[i]) for cells in rows) for i in range(len(columns))]
    lines = []
    for cells in rows:
        padded = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, (_, right) in zip(cells, widths, columns, strict=True)
        ]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def to_json(records: Sequence[dict[str, Any]]) -> str:
    """Return the records as a JSON array, times in ISO 8601."""
    return json.dumps(list(records), default=_json_default, ensure_ascii=False, indent=1)


def _json_default(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def read_file(path: str | Path) -> list[dict[str, Any]]:
    """Return the run records of a ``NEWS_RUNS_FILE``; a line that is no record is skipped."""
    records = []
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if isinstance(record, dict) and "spider" in record:
                records.append(record)
            elif line.strip():
                logger.warning("%s line %d is not a run record; skipped", path, number)
    return records


class MongoRuns:
    """Run records in ``crawl_runs``: the runs asked for and each spider's latest verdict."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection

    def select(self, query: Query) -> list[dict[str, Any]]:
        """Return the runs ``query`` asks for, newest first."""
        found = self.collection.find(query.mongo_filter()).sort("started_at", DESCENDING)
        return select(found.limit(query.last), query)

    def verdicts(self, spiders: Iterable[str], kinds: tuple[str, ...] = ()) -> dict[str, str]:
        """Return the status of the latest finished run of each of ``spiders`` (of ``kinds``)."""
        finished: dict[str, Any] = {"status": {"$in": [STATUS_OK, STATUS_FAILED]}}
        if kinds:
            finished["$or"] = [KIND_FILTERS[kind] for kind in kinds]
        latest = (
            self.collection.find_one(
                {"spider": spider, **finished}, sort=[("started_at", DESCENDING)]
            )
            for spider in set(spiders)
        )
        return latest_verdicts(record for record in latest if record)


class FileRuns:
    """Run records in a JSON-lines file."""

    def __init__(self, path: str | Path) -> None:
        self.records = read_file(path)

    def select(self, query: Query) -> list[dict[str, Any]]:
        """Return the runs ``query`` asks for, newest first."""
        return select(self.records, query)

    def verdicts(self, spiders: Iterable[str], kinds: tuple[str, ...] = ()) -> dict[str, str]:
        """Return the status of each spider's latest finished run (of ``kinds``)."""
        return latest_verdicts(self.records, kinds)


def unreadable(error: OSError | PyMongoError) -> str:
    """Return the one line that says why the run records could not be read."""
    if isinstance(error, OSError):
        return f"cannot read the run records: {error}"
    # pymongo's messages run to a topology description; the first part says what failed.
    detail = redact_uri(str(error)).split(", Topology Description")[0][:300]
    return (f"cannot read the run records in MongoDB ({type(error).__name__}: {detail}); "
            "NEWS_RUNS_FILE, when set, is read instead of an unreachable MongoDB")  # fmt: skip


class Command(ScrapyCommand):
    """List recent runs; exit 1 when the latest run of a spider listed is unhealthy."""

    requires_project = True
    # Nothing to crawl: no crawler process, so no Scrapy start-up lines around the table.
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[options]"

    def short_desc(self) -> str:
        return "Show recent crawl runs and their health; exit 1 if a spider's latest run failed"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--last", type=int, default=20, metavar="N",
                            help="show the N most recent runs (default: 20)")  # fmt: skip
        parser.add_argument("--spider", action="append", default=[], metavar="NAME",
                            help="only this spider's runs (may be repeated)")  # fmt: skip
        parser.add_argument("--failed", action="store_true", help="only failed runs")
        parser.add_argument("--since", metavar="SPAN",
                            help="only runs started in the last SPAN: 30m, 6h, 2d, 1w")  # fmt: skip
        parser.add_argument("--kind", action="append", default=[], choices=KINDS,
                            help="only records of this kind: run (a crawl's own), batch (a "
                                 "batch's summary), period (a following crawl's); may be "
                                 "repeated")  # fmt: skip
        parser.add_argument("--json", action="store_true", help="print the records as JSON")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("runs takes no arguments")
        if opts.last < 1:
            raise UsageError("--last must be at least 1")
        assert self.settings is not None
        since = datetime.now(UTC) - parse_since(opts.since) if opts.since else None
        query = Query(opts.last, tuple(opts.spider), opts.failed, since, tuple(opts.kind))
        self.exitcode = self.show(self.settings, query, opts.json)

    def show(self, settings: BaseSettings, query: Query, as_json: bool) -> int:
        """Print the runs ``query`` asks for; return the exit status."""
        try:
            with open_runs(settings) as runs:
                listed = runs.select(query)
                verdicts = runs.verdicts((record["spider"] for record in listed), query.kinds)
        except (OSError, PyMongoError) as error:
            print(f"runs: {unreadable(error)}", file=sys.stderr)
            return EXIT_UNREADABLE
        if as_json:
            print(to_json(listed))
        elif listed:
            print(table(listed))
        else:
            print("No runs to show")
        return exit_status(verdicts, listed)


@contextmanager
def open_runs(settings: BaseSettings) -> Iterator[MongoRuns | FileRuns]:
    """Yield the run records the settings point at: MongoDB when runs are recorded there, else
    (or when it cannot be reached and a file is set) ``NEWS_RUNS_FILE``."""
    path = option(settings, "NEWS_RUNS_FILE")
    config = StorageConfig.from_settings(settings)
    if not (option(settings, "NEWS_RUNS_MONGO") and config.uri):
        if not path:
            raise UsageError("runs are recorded nowhere: NEWS_RUNS_MONGO is off or "
                             "NEWS_MONGO_URI empty, and NEWS_RUNS_FILE is unset")  # fmt: skip
        yield FileRuns(path)
        return
    client = acquire_client(config)
    try:
        collection = client[config.database][option(settings, "NEWS_RUNS_COLLECTION")]
        if path:
            try:
                collection.database.command("ping")
            except PyMongoError as error:
                print(f"runs: MongoDB at {redact_uri(config.uri)} is unreachable "
                      f"({type(error).__name__}); reading {path}", file=sys.stderr)  # fmt: skip
                yield FileRuns(path)
                return
        yield MongoRuns(collection)
    finally:
        release_client(config)
