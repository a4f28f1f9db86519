"""``scrapy runs`` on recorded runs: the records real crawls wrote (tests/fixtures/runs/record.py
says how), read from the JSON-lines file and from MongoDB."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import mongomock
import pytest
from scrapy.exceptions import UsageError
from scrapy.utils.project import get_project_settings

from crawler.commands.runs import (
    Command,
    Query,
    exit_status,
    format_duration,
    latest_verdicts,
    parse_since,
    read_file,
    select,
    table,
    to_json,
)
from crawler.store.mongo import StorageConfig, acquire_client, release_client
from tests.conftest import FIXTURES, ROOT

if TYPE_CHECKING:
    from pathlib import Path

RUNS = FIXTURES / "runs" / "runs.jsonl"
RECORDS = read_file(RUNS)
#: A moment just after the last recorded run (2026-12-02 23:35:57 UTC).
NOW = datetime(2026, 12, 2, 23, 40, tzinfo=UTC)


def test_the_fixture_holds_the_eight_recorded_runs() -> None:
    assert [(r["spider"], r["status"]) for r in RECORDS] == [
        ("site", "ok"), ("site", "ok"), ("site", "failed"), ("site", "failed"), ("site", "ok"),
        ("ops_pages", "ok"), ("ops_empty", "failed"), ("ops_pages", "failed"),
    ]  # fmt: skip


def test_table_lists_runs_newest_first_in_local_time() -> None:
    listed = select(RECORDS, Query(last=20))
    assert table(listed, ZoneInfo("Asia/Shanghai")).splitlines() == [
        "spider     start (CST)          duration  pages  stored  dup  dropped  errors  health  problems",
        "ops_pages  2026-12-03 07:35:57     0.5 s      4       0    0        0       0  FAILED  finish reason 'closespider_itemcount' is not clean",
        "ops_empty  2026-12-03 07:35:53     0.1 s      1       0    0        0       0  FAILED  no items: the spider found no article",
        "ops_pages  2026-12-03 07:35:48     0.3 s      7       0    0        0       0  ok",
        "site       2026-12-03 07:35:36     3.3 s      7       5    0        0       0  ok",
        "site       2026-12-03 07:35:23     0.4 s      1       0    0        0       0  FAILED  no items: the spider found no article",
        "site       2026-12-03 07:35:09     4.1 s      7       2    0        3       0  FAILED  coverage of published_at 40% under 100%",
        "site       2026-12-03 07:34:55     2.3 s      8       6    0        0       0  ok",
        "site       2026-12-03 07:34:44     3.6 s     27      22    2        0       0  ok",
    ]


def starts(records: list[dict[str, Any]]) -> list[str]:
    return [f"{r['spider']} {r['started_at']:%H:%M:%S}" for r in records]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (Query(last=2), ["ops_pages 23:35:57", "ops_empty 23:35:53"]),
        (
            Query(last=20, spiders=("ops_empty", "ops_pages"), failed=True),
            ["ops_pages 23:35:57", "ops_empty 23:35:53"],
        ),
        (Query(last=20, spiders=("site",), failed=True), ["site 23:35:23", "site 23:35:09"]),
        (
            Query(last=20, since=NOW - timedelta(minutes=4, seconds=15)),
            ["ops_pages 23:35:57", "ops_empty 23:35:53", "ops_pages 23:35:48"],
        ),
        (Query(last=20, spiders=("nosuch",)), []),
    ],
)
def test_filters(query: Query, expected: list[str]) -> None:
    assert starts(select(RECORDS, query)) == expected


def test_exit_status_follows_the_latest_run_of_each_listed_spider() -> None:
    verdicts = latest_verdicts(RECORDS)
    assert verdicts == {"site": "ok", "ops_pages": "failed", "ops_empty": "failed"}
    by_spider = {s: select(RECORDS, Query(20, (s,))) for s in verdicts}
    assert exit_status(verdicts, by_spider["site"]) == 0
    assert exit_status(verdicts, by_spider["ops_pages"]) == 1
    # Site's failed runs are listed, but its latest run is healthy: nothing to act on.
    assert exit_status(verdicts, select(RECORDS, Query(20, ("site",), failed=True))) == 0
    assert exit_status(verdicts, []) == 0


@pytest.mark.parametrize(
    ("text", "span"),
    [("6h", timedelta(hours=6)), ("30m", timedelta(minutes=30)), ("2d", timedelta(days=2)),
     ("1w", timedelta(weeks=1)), ("90s", timedelta(seconds=90)), ("1.5h", timedelta(minutes=90))],
)  # fmt: skip
def test_parse_since(text: str, span: timedelta) -> None:
    assert parse_since(text) == span


@pytest.mark.parametrize("text", ["6", "h", "6 hours", "-1h", ""])
def test_parse_since_refuses(text: str) -> None:
    with pytest.raises(UsageError):
        parse_since(text)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.31, "0.3 s"), (59.94, "59.9 s"), (185, "3 m 05 s"), (7260.4, "2 h 01 m"), (None, "-")],
)
def test_format_duration(seconds: float | None, shown: str) -> None:
    assert format_duration(seconds) == shown


def test_json_keeps_whole_records_newest_first() -> None:
    printed = json.loads(to_json(select(RECORDS, Query(last=3))))
    assert [r["_id"] for r in printed] == [r["_id"] for r in reversed(RECORDS[-3:])]
    assert printed[0] == RECORDS[-1]  # times as ISO 8601, as the file has them


def test_a_line_that_is_no_record_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "runs.jsonl"
    lines = RUNS.read_text().splitlines()
    path.write_text("\n".join([lines[0], '{"torn', "[1]", lines[1]]) + "\n")
    assert [r["_id"] for r in read_file(path)] == [r["_id"] for r in RECORDS[:2]]
    assert "line 2 is not a run record" in caplog.text
    assert "line 3 is not a run record" in caplog.text


# --- the command, in this process -----------------------------------------------------------------


def command(capsys: pytest.CaptureFixture[str], *argv: str, **settings: Any) -> tuple[int, str]:
    """Run ``scrapy runs ARGV`` with the project's settings plus ``settings``; return the exit
    status and what it printed (stderr is left in ``capsys``)."""
    cmd = Command()
    project = get_project_settings()
    project.setdict(settings, priority="cmdline")
    cmd.settings = project
    parser = argparse.ArgumentParser()
    cmd.add_options(parser)
    cmd.run([], parser.parse_args(argv))
    out = capsys.readouterr()
    sys.stderr.write(out.err)
    return cmd.exitcode, out.out


def test_command_reads_the_runs_file(capsys: pytest.CaptureFixture[str]) -> None:
    from_file = {"NEWS_RUNS_MONGO": False, "NEWS_RUNS_FILE": str(RUNS)}
    code, out = command(capsys, **from_file)
    assert code == 1
    assert len(out.splitlines()) == 1 + len(RECORDS)
    code, out = command(capsys, "--spider", "site", "--json", **from_file)
    assert code == 0
    assert [r["spider"] for r in json.loads(out)] == ["site"] * 5
    code, out = command(capsys, "--since", "1m", **from_file)
    assert (code, out) == (0, "No runs to show\n")  # recorded long before this test ran


def to_mongo(record: dict[str, Any]) -> dict[str, Any]:
    """Return a file record as the recorder writes it to MongoDB (times as datetimes)."""
    times = {k: datetime.fromisoformat(record[k]) for k in ("started_at", "finished_at")}
    return record | times


@pytest.fixture
def mongo_settings() -> dict[str, Any]:
    """Settings of a mongomock MongoDB whose ``crawl_runs`` holds the recorded runs, and one
    still running, started after them all."""
    settings = {
        "NEWS_MONGO_URI": "mongodb://runs.test:27017",
        "NEWS_MONGO_DATABASE": "runs_test",
        "NEWS_MONGO_CLIENT_FACTORY": mongomock.MongoClient,
        "NEWS_RUNS_MONGO": True,
        "NEWS_RUNS_FILE": "",
    }
    project = get_project_settings()
    project.setdict(settings, priority="cmdline")
    config = StorageConfig.from_settings(project)
    client = acquire_client(config)
    collection = client["runs_test"]["crawl_runs"]
    collection.insert_many([to_mongo(r) for r in RECORDS])
    running = to_mongo(RECORDS[0]) | {"_id": "now", "spider": "site", "status": "running",
                                      "started_at": datetime(2026, 12, 2, 23, 39)}  # fmt: skip
    collection.insert_one(running)
    yield settings
    client.drop_database("runs_test")
    release_client(config)


def test_command_reads_crawl_runs_in_mongodb(
    capsys: pytest.CaptureFixture[str], mongo_settings: dict[str, Any]
) -> None:
    code, out = command(capsys, "--spider", "site", "--last", "3", **mongo_settings)
    # The running run is listed; the verdict is the latest finished run's (ok).
    assert code == 0
    health = [re.split(r"\s{2,}", line)[8] for line in out.splitlines()[1:]]
    assert health == ["running", "ok", "FAILED"]
    code, out = command(capsys, "--failed", "--json", **mongo_settings)
    assert code == 1
    assert [r["_id"] for r in json.loads(out)] == [
        r["_id"] for r in reversed(RECORDS) if r["status"] == "failed"
    ]


def test_unreachable_mongodb_falls_back_to_the_runs_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = command(capsys, "--last", "1", NEWS_MONGO_URI="mongodb://ops:pa55@127.0.0.1:9",
                        NEWS_MONGO_TIMEOUT_MS=100, NEWS_RUNS_FILE=str(RUNS))  # fmt: skip
    assert code == 1
    assert out.splitlines()[1].startswith("ops_pages ")
    assert capsys.readouterr().err == (
        "runs: MongoDB at mongodb://ops:***@127.0.0.1:9 is unreachable "
        f"(ServerSelectionTimeoutError); reading {RUNS}\n"
    )


def test_runs_recorded_nowhere_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError, match="recorded nowhere"):
        command(capsys, NEWS_RUNS_MONGO=False, NEWS_RUNS_FILE="")


# --- the command as cron or a monitoring check runs it -----------------------------------------


@pytest.mark.e2e
def test_scrapy_runs_as_a_check_command() -> None:
    env = {**os.environ, "TZ": "Asia/Shanghai"}
    base = [sys.executable, "-m", "scrapy", "runs", "-s", "NEWS_RUNS_MONGO=False",
            "-s", f"NEWS_RUNS_FILE={RUNS}"]  # fmt: skip
    failing = subprocess.run([*base, "--last", "2"], cwd=ROOT, env=env, capture_output=True,
                             text=True, check=False)  # fmt: skip
    assert failing.returncode == 1
    assert failing.stderr == ""
    assert failing.stdout.splitlines()[1].startswith("ops_pages  2026-12-03 07:35:57 ")
    healthy = subprocess.run([*base, "--spider", "site"], cwd=ROOT, env=env, capture_output=True,
                             text=True, check=False)  # fmt: skip
    assert healthy.returncode == 0


def test_unreachable_mongodb_without_a_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = command(capsys, NEWS_MONGO_URI="mongodb://ops:pa55@127.0.0.1:9",
                        NEWS_MONGO_TIMEOUT_MS=100, NEWS_RUNS_FILE="")  # fmt: skip
    err = capsys.readouterr().err
    assert (code, out) == (2, "")
    assert err.startswith(
        "runs: cannot read the run records in MongoDB (ServerSelectionTimeoutError: "
    )
    assert "pa55" not in err
    assert "Topology Description" not in err


# --- kinds of record: a crawl's own, a batch's summary, a following crawl's period ---------------


def mixed_kinds() -> list[dict[str, Any]]:
    """Return a worker's run, its batch's summary and a following crawl's two periods, shaped
    as the recorder and the batch recorder write them (from the recorded runs' figures)."""
    base = RECORDS[4]  # site, ok, 2026-12-02 23:35:36 UTC
    worker = base | {"_id": "w1", "batch": "20261202T2330Z"}
    summary = base | {"_id": "batch 20261202T2330Z site", "kind": "batch", "host": None,
                      "status": "failed", "problems": ["no items: the spider found no article"],
                      "started_at": "2026-12-02T23:35:37+00:00"}  # fmt: skip
    periods = [
        base
        | {
            "_id": f"f.{n}",
            "spider": "eastmoney_724",
            "run": "f",
            "period": n,
            "started_at": f"2026-12-02T23:3{n + 5}:40+00:00",
        }  # fmt: skip
        for n in (1, 2)
    ]
    return [worker, summary, *periods]


def test_table_tells_batches_and_periods_from_runs() -> None:
    lines = table(select(mixed_kinds(), Query(last=20)), ZoneInfo("Asia/Shanghai")).splitlines()
    assert [re.split(r"\s{2,}", line)[:2] for line in lines] == [
        ["spider", "kind"],
        ["eastmoney_724", "period 2"],
        ["eastmoney_724", "period 1"],
        ["site", "batch"],
        ["site", "run"],
    ]
    # Runs alone: no kind column, the table as before.
    assert "kind" not in table(select(RECORDS, Query(last=20)))


@pytest.mark.parametrize(
    ("kinds", "ids"),
    [
        (("batch",), ["batch 20261202T2330Z site"]),
        (("run",), ["w1"]),
        (("period",), ["f.2", "f.1"]),
        (("run", "batch"), ["batch 20261202T2330Z site", "w1"]),
        ((), ["f.2", "f.1", "batch 20261202T2330Z site", "w1"]),
    ],
)
def test_kind_filter(kinds: tuple[str, ...], ids: list[str]) -> None:
    assert [r["_id"] for r in select(mixed_kinds(), Query(last=20, kinds=kinds))] == ids


def test_command_filters_kinds_in_the_file_and_in_mongodb(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, mongo_settings: dict[str, Any]
) -> None:
    records = mixed_kinds()
    path = tmp_path / "runs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    project = get_project_settings()
    project.setdict(mongo_settings, priority="cmdline")
    config = StorageConfig.from_settings(project)  # the fixture's client, shared
    acquire_client(config)["runs_test"]["crawl_runs"].insert_many([to_mongo(r) for r in records])
    release_client(config)
    from_file = {"NEWS_RUNS_MONGO": False, "NEWS_RUNS_FILE": str(path)}
    for settings in (from_file, mongo_settings):
        # The batch failed while the worker's own run was healthy: the exit status follows the
        # kind asked for.
        code, out = command(capsys, "--kind", "batch", "--json", **settings)
        assert (code, [r["_id"] for r in json.loads(out)]) == (1, ["batch 20261202T2330Z site"])
        code, out = command(capsys, "--kind", "run", "--spider", "site", "--last", "1", **settings)
        assert code == 0
        assert out.splitlines()[1].startswith("site ")  # runs only: no kind column
        code, out = command(capsys, "--kind", "period", **settings)
        assert [line.split()[:3] for line in out.splitlines()] == [
            ["spider", "kind", "start"], ["eastmoney_724", "period", "2"],
            ["eastmoney_724", "period", "1"],
        ]  # fmt: skip
    with pytest.raises(SystemExit):
        command(capsys, "--kind", "walk", **from_file)
