"""The Prometheus metrics file: the recorded runs folded in one after another, as successive
crawl processes do, and read back with prometheus-client's parser."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from crawler.extensions.metrics import update
from tests.commands.test_crawlall import routes
from tests.conftest import FIXTURES, ROOT
from tests.mockserver import MockServer

if TYPE_CHECKING:
    from pathlib import Path

RECORDS = [json.loads(line) for line in (FIXTURES / "runs" / "runs.jsonl").read_text().splitlines()]


def parsed(path: Path) -> dict[str, dict[str, Any]]:
    """Return the file's families by name: type, help, and samples as {(name, labels): value}."""
    families = {}
    for family in text_string_to_metric_families(path.read_text()):
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in family.samples}
        families[family.name] = {"type": family.type, "help": family.documentation,
                                 "samples": samples}  # fmt: skip
    return families


def value(families: dict[str, dict[str, Any]], sample: str, **labels: str) -> float:
    family = sample.removesuffix("_total")
    return families[family]["samples"][(sample, tuple(sorted(labels.items())))]


def finished(record: dict[str, Any]) -> float:
    return datetime.fromisoformat(record["finished_at"]).timestamp()


@pytest.fixture
def metrics(tmp_path: Path) -> Path:
    path = tmp_path / "textfile" / "finews.prom"
    for record in RECORDS:
        update(path, record)
    return path


def test_names_types_and_units_follow_prometheus_conventions(metrics: Path) -> None:
    families = parsed(metrics)
    assert {name: f["type"] for name, f in families.items()} == {
        "finews_run_last_success_timestamp_seconds": "gauge",
        "finews_run_duration_seconds": "gauge",
        "finews_run_healthy": "gauge",
        "finews_items_stored": "counter",
        "finews_items_dropped": "counter",
        "finews_field_coverage_ratio": "gauge",
    }
    # Counters' samples end in _total, and carry no _created the file could not keep.
    assert {name for name, _ in families["finews_items_stored"]["samples"]} == {
        "finews_items_stored_total"
    }


def test_each_spider_has_its_last_run_and_its_counters_summed(metrics: Path) -> None:
    families = parsed(metrics)
    site = [r for r in RECORDS if r["spider"] == "site"]
    ops_pages = [r for r in RECORDS if r["spider"] == "ops_pages"]
    # Stored: 22 + 6 + 2 + 0 + 5 over the five site runs; the three dropped in run 3.
    assert value(families, "finews_items_stored_total", spider="site") == 35
    assert value(families, "finews_items_dropped_total", spider="site",
                 reason="missing_published_at") == 3  # fmt: skip
    assert value(families, "finews_run_healthy", spider="site") == 1
    assert value(families, "finews_run_duration_seconds", spider="site") == site[-1]["elapsed_s"]
    assert value(families, "finews_run_last_success_timestamp_seconds", spider="site") == (
        pytest.approx(finished(site[-1]))
    )
    # ops_pages' last run failed: unhealthy, but its last success is the run before.
    assert value(families, "finews_run_healthy", spider="ops_pages") == 0
    assert value(families, "finews_run_last_success_timestamp_seconds", spider="ops_pages") == (
        pytest.approx(finished(ops_pages[0]))
    )
    # ops_empty never succeeded: no last success at all (not 0, which would read as 1970).
    samples = families["finews_run_last_success_timestamp_seconds"]["samples"]
    assert ("finews_run_last_success_timestamp_seconds", (("spider", "ops_empty"),)) not in samples
    assert value(families, "finews_field_coverage_ratio", spider="site", field="publisher") == 1.0


def test_coverage_is_the_last_runs(tmp_path: Path) -> None:
    path = tmp_path / "finews.prom"
    third = RECORDS[2]  # site: 2 stored, 3 without a publish time
    update(path, third)
    assert value(parsed(path), "finews_field_coverage_ratio", spider="site",
                 field="published_at") == pytest.approx(0.4)  # fmt: skip


def test_the_file_is_replaced_whole(metrics: Path) -> None:
    inode = metrics.stat().st_ino
    update(metrics, RECORDS[0])
    assert metrics.stat().st_ino != inode  # renamed over, never rewritten in place
    assert sorted(p.name for p in metrics.parent.iterdir()) == ["finews.prom", "finews.prom.lock"]


def test_an_unparseable_file_is_rewritten(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "finews.prom"
    path.write_text("finews_run_healthy{spider=\n")
    with caplog.at_level(logging.WARNING):
        update(path, RECORDS[0])
    assert "is unreadable" in caplog.text
    assert value(parsed(path), "finews_items_stored_total", spider="site") == 22


@pytest.mark.e2e
def test_a_crawl_writes_the_metrics_file(tmp_path: Path) -> None:
    path = tmp_path / "finews.prom"
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "tests.ops_spiders.settings"}
    with MockServer(routes()) as server:
        settings = {
            "OPS_BASE_URL": server.url(""),
            "NEWS_METRICS_FILE": str(path),
            "NEWS_LOCK_FILE": str(tmp_path / "lock"),
            "LOG_FILE": str(tmp_path / "log"),
        }
        args = [a for k, v in settings.items() for a in ("-s", f"{k}={v}")]
        for spider in ("ops_pages", "ops_empty"):
            subprocess.run([sys.executable, "-m", "scrapy", "crawlall", spider, *args], cwd=ROOT,
                           env=env, check=False, timeout=120)  # fmt: skip
    families = parsed(path)
    assert value(families, "finews_run_healthy", spider="ops_pages") == 1
    assert value(families, "finews_run_healthy", spider="ops_empty") == 0
    assert value(families, "finews_field_coverage_ratio", spider="ops_pages", field="title") == 1
