"""Run metrics in the Prometheus text format, for the node exporter's textfile collector.

After every run the :class:`MetricsFile` extension rewrites ``NEWS_METRICS_FILE`` (name it
``*.prom`` in the collector's directory) with one series per spider: when its last healthy run
finished, how long its last run took, whether it was healthy, its field coverage, and the
articles stored and dropped (counters, summed over runs). Every crawl process shares the one
file: the previous file is read back (prometheus-client's parser), the other spiders' series kept,
this spider's replaced or added to, and the whole written by prometheus-client's writer to a
temporary file renamed over the old one, under a lock. A file that cannot be written is logged
and never fails the crawl.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from prometheus_client import CollectorRegistry, write_to_textfile
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from scrapy.exceptions import NotConfigured

from crawler.commands.runs import as_time
from crawler.extensions.runs import STATUS_OK, run_closed
from crawler.extensions.shared_file import locked
from crawler.options import option

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Series keys: the metric's labels as sorted (name, value) pairs.
Labels = tuple[tuple[str, str], ...]
SPIDER = "spider"


@dataclass(frozen=True)
class Family:
    """One metric: its name (a counter's without ``_total``), type, help and extra label."""

    name: str
    kind: str  # "gauge" or "counter"
    doc: str
    label: str | None = None


LAST_SUCCESS = Family(
    "finews_run_last_success_timestamp_seconds",
    "gauge",
    "When the spider's last healthy run finished, in seconds since the epoch.",
)
DURATION = Family("finews_run_duration_seconds", "gauge", "How long the spider's last run took.")
HEALTHY = Family(
    "finews_run_healthy", "gauge", "1 when the spider's last run passed its health checks, else 0."
)
STORED = Family("finews_items_stored", "counter", "Articles the spider's runs stored (new ones).")
DROPPED = Family(
    "finews_items_dropped", "counter", "Articles the spider's runs dropped, by reason.", "reason"
)
COVERAGE = Family(
    "finews_field_coverage_ratio",
    "gauge",
    "Share of the articles of the spider's last run that had the field.",
    "field",
)
FAMILIES: tuple[Family, ...] = (LAST_SUCCESS, DURATION, HEALTHY, STORED, DROPPED, COVERAGE)

#: Every family's series: labels to value.
Series = dict[str, dict[Labels, float]]


def labels(spider: str, **extra: str) -> Labels:
    """Return the series key of ``spider`` with ``extra`` labels."""
    return tuple(sorted({SPIDER: spider, **extra}.items()))


def read_series(text: str) -> Series:
    """Return the series of our families in a metrics file's ``text`` (other lines ignored)."""
    wanted = {family.name for family in FAMILIES}
    found: Series = {family.name: {} for family in FAMILIES}
    for parsed in text_string_to_metric_families(text):
        if parsed.name not in wanted:
            continue
        for sample in parsed.samples:
            # A counter's ``_created`` samples are not ours; its value is ``name_total``.
            if sample.name in (parsed.name, f"{parsed.name}_total"):
                found[parsed.name][tuple(sorted(sample.labels.items()))] = sample.value
    return found


def merge(previous: Series, record: Mapping[str, Any]) -> Series:
    """Return the series after the run ``record``: its spider's gauges replaced, its counters
    added to, its last success kept when the run failed; other spiders' left as they were."""
    spider = record["spider"]
    mine = (SPIDER, spider)
    merged: Series = {
        name: {key: value for key, value in series.items() if mine not in key}
        for name, series in previous.items()
    }
    own = {
        name: {key: value for key, value in series.items() if mine in key}
        for name, series in previous.items()
    }
    healthy = record.get("status") == STATUS_OK
    finished = as_time(record.get("finished_at"))
    if healthy and finished is not None:
        merged[LAST_SUCCESS.name][labels(spider)] = finished.timestamp()
    else:
        merged[LAST_SUCCESS.name].update(own[LAST_SUCCESS.name])
    if isinstance(elapsed := record.get("elapsed_s"), int | float):
        merged[DURATION.name][labels(spider)] = float(elapsed)
    merged[HEALTHY.name][labels(spider)] = 1.0 if healthy else 0.0
    items = record.get("items") or {}
    stored = own[STORED.name].get(labels(spider), 0.0) + items.get("stored", 0)
    merged[STORED.name][labels(spider)] = stored
    merged[DROPPED.name].update(own[DROPPED.name])
    for reason, count in (items.get("dropped_by_reason") or {}).items():
        key = labels(spider, reason=reason)
        merged[DROPPED.name][key] = merged[DROPPED.name].get(key, 0.0) + count
    for field, share in (record.get("coverage") or {}).items():
        merged[COVERAGE.name][labels(spider, field=field)] = float(share)
    return merged


class SeriesCollector:
    """A prometheus-client collector that yields fixed series."""

    def __init__(self, series: Series) -> None:
        self.series = series

    def collect(self) -> Iterator[Metric]:
        """Yield every family that has a series, series sorted by labels."""
        for family in FAMILIES:
            values = self.series.get(family.name) or {}
            if not values:
                continue
            names = [SPIDER, family.label] if family.label else [SPIDER]
            kind = CounterMetricFamily if family.kind == "counter" else GaugeMetricFamily
            metric = kind(family.name, family.doc, labels=names)
            for key, value in sorted(values.items()):
                given = dict(key)
                metric.add_metric([given.get(name, "") for name in names], value)
            yield metric


def write(path: str | Path, series: Series) -> None:
    """Write ``series`` to ``path`` atomically with prometheus-client's text writer."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SeriesCollector(series))
    write_to_textfile(str(path), registry)


def update(path: str | Path, record: Mapping[str, Any]) -> None:
    """Fold the run ``record`` into the metrics file at ``path`` (created when missing)."""
    path = Path(path)
    with locked(path):
        try:
            previous = read_series(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            previous = read_series("")
        except (OSError, ValueError) as error:
            # A file the parser refuses was not written by us: start it afresh (counters reset,
            # which Prometheus's rate() takes in its stride).
            logger.warning("Metrics file %s is unreadable (%s); rewriting it", path, error)
            previous = read_series("")
        write(path, merge(previous, record))


class MetricsFile:
    """Rewrite ``NEWS_METRICS_FILE`` after each run."""

    def __init__(self, path: str) -> None:
        self.path = path

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = option(crawler.settings, "NEWS_METRICS_FILE")
        if not path or not option(crawler.settings, "NEWS_RUNS_ENABLED"):
            raise NotConfigured
        extension = cls(path)
        crawler.signals.connect(extension.run_closed, signal=run_closed)
        return extension

    def run_closed(self, record: dict[str, Any]) -> None:
        """Fold the finished run into the metrics file; a failure is only logged."""
        try:
            update(self.path, record)
        except Exception as error:  # metrics must never fail a crawl
            logger.warning("Could not write the metrics file %s: %s: %s", self.path,
                           type(error).__name__, error)  # fmt: skip
