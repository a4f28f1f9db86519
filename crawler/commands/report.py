"""``scrapy report --out report.html``: one self-contained page of charts about the last days.

Stories stored per source per hour (the article collection's ``first_seen_at``), runs over time
coloured by health, articles dropped by reason, field coverage per spider (its latest run) and
the duplicate rate per spider, from the run records ``scrapy runs`` reads. The charts are SVG
written here, inline: the page needs no network and no script to open.
"""

from __future__ import annotations

import html
import sys
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pymongo.errors import PyMongoError
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands.runs import EXIT_UNREADABLE, Query, as_time, open_runs, unreadable
from crawler.extensions.runs import STATUS_FAILED, STATUS_OK
from crawler.store.mongo import StorageConfig, acquire_client, redact_uri, release_client

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable

    from scrapy.settings import BaseSettings

#: Series colours (colour-blind safe, Okabe and Ito), then health colours.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
HEALTH_COLOURS = {STATUS_OK: "#009E73", STATUS_FAILED: "#D55E00"}
WIDTH = 960
#: Runs read for a report at most.
MAX_RUNS = 5000


@dataclass(frozen=True)
class ReportData:
    """What the charts show: the window, stories per source per hour, the window's runs."""

    since: datetime
    now: datetime
    stories: Mapping[str, Counter[datetime]]
    runs: list[dict[str, Any]]
    stories_note: str = ""


def hour_of(moment: datetime) -> datetime:
    """Return the UTC hour ``moment`` falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hourly_stories(documents: Iterable[Mapping[str, Any]]) -> dict[str, Counter[datetime]]:
    """Count stored stories per source per hour of ``first_seen_at``."""
    counts: dict[str, Counter[datetime]] = defaultdict(Counter)
    for document in documents:
        if seen := as_time(document.get("first_seen_at")):
            counts[str(document.get("source", "?"))][hour_of(seen)] += 1
    return dict(counts)


def drops_by_reason(runs: Iterable[Mapping[str, Any]]) -> Counter[str]:
    """Sum the runs' dropped articles by reason."""
    total: Counter[str] = Counter()
    for run in runs:
        total.update((run.get("items") or {}).get("dropped_by_reason") or {})
    return total


def latest_coverage(runs: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Return each spider's field coverage in its latest run that measured any."""
    latest: dict[str, dict[str, float]] = {}
    for run in sorted(runs, key=lambda r: r["started_at"]):
        if run.get("coverage"):
            latest[run["spider"]] = dict(run["coverage"])
    return latest


def duplicate_rates(runs: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Return each spider's share of articles that were duplicates of a stored story."""
    duplicates: Counter[str] = Counter()
    written: Counter[str] = Counter()
    for run in runs:
        items = run.get("items") or {}
        duplicate = sum((items.get("duplicate") or {}).values())
        duplicates[run["spider"]] += duplicate
        written[run["spider"]] += duplicate + sum(
            items.get(key, 0) for key in ("stored", "updated", "unchanged")
        )
    return {spider: duplicates[spider] / count for spider, count in written.items() if count}


# --- SVG --------------------------------------------------------------------------------------


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 12) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}">'
            f"{html.escape(text)}</text>")  # fmt: skip


def _svg(height: int, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{html.escape(label)}" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'font-family="sans-serif">{"".join(body)}</svg>'
    )


def _empty(label: str, why: str) -> str:
    return _svg(60, [_text(WIDTH / 2, 35, why, "middle", 14)], label)


def _legend(names: list[str], y: float) -> list[str]:
    parts, x = [], 60.0
    for index, name in enumerate(names):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="{colour}"/>')
        parts.append(_text(x + 16, y, name))
        x += 28 + 7.5 * len(name)
    return parts


def stories_chart(data: ReportData, zone: tzinfo | None) -> str:
    """Stacked bars: stories stored per source per hour of the window."""
    label = "Stories stored per source per hour"
    if not any(data.stories.values()):
        return _empty(label, data.stories_note or "no story stored in this window")
    hours: list[datetime] = []
    hour = hour_of(data.since)
    while hour <= data.now:
        hours.append(hour)
        hour += timedelta(hours=1)
    sources = sorted(data.stories)
    totals = [sum(data.stories[s][h] for s in sources) for h in hours]
    top = max(totals) or 1
    left, plot_h, base = 60, 220, 250
    step = (WIDTH - left - 20) / len(hours)
    body = [
        _text(left - 8, base - plot_h + 4, str(top), "end"),
        _text(left - 8, base, "0", "end"),
        f'<line x1="{left}" y1="{base}" x2="{WIDTH - 20}" y2="{base}" stroke="#888"/>',
    ]
    for i, hour in enumerate(hours):
        x, y = left + i * step, float(base)
        for index, source in enumerate(sources):
            if count := data.stories[source][hour]:
                height = plot_h * count / top
                y -= height
                body.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(step - 1, 1):.1f}" '
                    f'height="{height:.1f}" fill="{PALETTE[index % len(PALETTE)]}">'
                    f"<title>{html.escape(source)} {hour.astimezone(zone):%m-%d %H:00}: "
                    f"{count}</title></rect>"
                )
        if hour.astimezone(zone).hour == 0 or i == 0:
            body.append(_text(x, base + 16, f"{hour.astimezone(zone):%m-%d %H:00}"))
    body += _legend(sources, base + 40)
    return _svg(base + 50, body, label)


def runs_chart(data: ReportData, zone: tzinfo | None) -> str:
    """One row per spider, one dot per run at its start, coloured by health."""
    label = "Runs over time by health"
    finished = [r for r in data.runs if r.get("status") in HEALTH_COLOURS]
    if not finished:
        return _empty(label, "no run recorded in this window")
    spiders = sorted({r["spider"] for r in finished})
    left, right, row = 140, WIDTH - 20, 26
    span = (data.now - data.since).total_seconds() or 1.0
    body = []
    for index, spider in enumerate(spiders):
        y = 20 + index * row
        body.append(_text(left - 10, y + 4, spider, "end"))
        body.append(f'<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="#ddd"/>')
    for run in finished:
        y = 20 + spiders.index(run["spider"]) * row
        x = left + (right - left) * (run["started_at"] - data.since).total_seconds() / span
        problems = "; ".join(run.get("problems") or []) or "healthy"
        body.append(
            f'<circle cx="{x:.1f}" cy="{y}" r="6" fill="{HEALTH_COLOURS[run["status"]]}">'
            f"<title>{html.escape(run['spider'])} "
            f"{run['started_at'].astimezone(zone):%Y-%m-%d %H:%M}: {html.escape(problems)}"
            "</title></circle>"
        )
    bottom = 20 + len(spiders) * row
    body.append(_text(left, bottom + 4, f"{data.since.astimezone(zone):%Y-%m-%d %H:%M}"))
    body.append(_text(right, bottom + 4, f"{data.now.astimezone(zone):%Y-%m-%d %H:%M}", "end"))
    body += [
        f'<circle cx="{left + 6}" cy="{bottom + 24}" r="6" fill="{HEALTH_COLOURS[STATUS_OK]}"/>',
        _text(left + 16, bottom + 28, "healthy"),
        f'<circle cx="{left + 86}" cy="{bottom + 24}" r="6" '
        f'fill="{HEALTH_COLOURS[STATUS_FAILED]}"/>',
        _text(left + 96, bottom + 28, "failed"),
    ]
    return _svg(bottom + 40, body, label)


def bars_chart(values: Mapping[str, float], label: str, shown: str, empty: str) -> str:
    """Horizontal bars, largest first; ``shown`` formats a value (``{:.0%}``)."""
    if not values:
        return _empty(label, empty)
    top = max(values.values()) or 1.0
    left, right, row = 220, WIDTH - 80, 24
    body = []
    ordered = sorted(values.items(), key=lambda item: (-item[1], item[0]))
    for index, (name, value) in enumerate(ordered):
        y = 10 + index * row
        width = (right - left) * value / top
        body.append(_text(left - 10, y + 14, name, "end"))
        body.append(f'<rect x="{left}" y="{y}" width="{max(width, 1):.1f}" height="18" '
                    f'fill="{PALETTE[0]}"/>')  # fmt: skip
        body.append(_text(left + width + 6, y + 14, shown.format(value)))
    return _svg(20 + len(values) * row, body, label)


def coverage_colour(share: float | None) -> str:
    """Return a coverage cell's colour: green when full, orange from 90 %, red under it."""
    if share is None:
        return "#eee"
    return "#009E73" if share >= 1 else "#E69F00" if share >= 0.9 else "#D55E00"


def coverage_chart(coverage: Mapping[str, Mapping[str, float]]) -> str:
    """A grid, spider by field, each cell the share of articles having the field."""
    label = "Field coverage per spider"
    if not coverage:
        return _empty(label, "no run measured field coverage in this window")
    fields = sorted({name for shares in coverage.values() for name in shares})
    spiders = sorted(coverage)
    left, cell_w, cell_h = 140, 120, 28
    body = [_text(left + (i + 0.5) * cell_w, 18, name, "middle") for i, name in enumerate(fields)]
    for row, spider in enumerate(spiders):
        y = 28 + row * cell_h
        body.append(_text(left - 10, y + 18, spider, "end"))
        for column, name in enumerate(fields):
            share = coverage[spider].get(name)
            x = left + column * cell_w
            colour = coverage_colour(share)
            body.append(f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                        f'fill="{colour}"/>')  # fmt: skip
            text = "-" if share is None else f"{share:.0%}"
            body.append(_text(x + cell_w / 2, y + 18, text, "middle"))
    return _svg(40 + len(spiders) * cell_h, body, label)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em auto; max-width: {width}px; color: #222; }}
h2 {{ font-size: 1.1em; margin-top: 2em; }} p.note {{ color: #666; }}
</style></head><body>
<h1>{title}</h1>
<p class="note">{window}</p>
{sections}
</body></html>
"""


def render(data: ReportData, zone: tzinfo | None = None) -> str:
    """Return the report page."""
    charts = [
        ("Stories stored per source per hour", stories_chart(data, zone)),
        ("Runs over time (green: healthy, red: failed; hover for the problems)",
         runs_chart(data, zone)),
        ("Articles dropped, by reason",
         bars_chart(drops_by_reason(data.runs), "Articles dropped by reason", "{:.0f}",
                    "no article dropped in this window")),
        ("Field coverage per spider (its latest run)", coverage_chart(latest_coverage(data.runs))),
        ("Duplicate rate per spider (duplicates of all articles written)",
         bars_chart(duplicate_rates(data.runs), "Duplicate rate per spider", "{:.1%}",
                    "no article written in this window")),
    ]  # fmt: skip
    sections = "\n".join(f"<h2>{html.escape(title)}</h2>\n{chart}" for title, chart in charts)
    window = (f"{data.since.astimezone(zone):%Y-%m-%d %H:%M} to "
              f"{data.now.astimezone(zone):%Y-%m-%d %H:%M %Z}, {len(data.runs)} runs")  # fmt: skip
    return PAGE.format(title="finews report", width=WIDTH, window=html.escape(window),
                       sections=sections)  # fmt: skip


def read_stories(
    settings: BaseSettings, since: datetime
) -> tuple[dict[str, Counter[datetime]], str]:
    """Return the stories stored since ``since`` per source per hour, and a note when MongoDB
    could not say."""
    config = StorageConfig.from_settings(settings)
    if not config.uri:
        return {}, "storage is off (NEWS_MONGO_URI is empty): no stories to count"
    try:
        client = acquire_client(config)
    except PyMongoError as error:
        return {}, f"MongoDB unreachable: {redact_uri(str(error))[:200]}"
    try:
        found = client[config.database][config.collection].find(
            {"first_seen_at": {"$gte": since.replace(tzinfo=None)}},
            {"source": 1, "first_seen_at": 1},
        )
        return hourly_stories(found), ""
    except PyMongoError as error:
        return {}, f"MongoDB at {config.where} failed: {type(error).__name__}"
    finally:
        release_client(config)


class Command(ScrapyCommand):
    """Write the report page."""

    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "--out FILE [options]"

    def short_desc(self) -> str:
        return "Write a self-contained HTML page of charts about recent crawls"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--out", required=True, metavar="FILE", help="the HTML file to write")
        parser.add_argument("--days", type=float, default=3.0,
                            help="how many days back (default: 3)")  # fmt: skip

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("report takes no arguments")
        if opts.days <= 0:
            raise UsageError("--days must be positive")
        assert self.settings is not None
        now = datetime.now(UTC)
        since = now - timedelta(days=opts.days)
        try:
            with open_runs(self.settings) as runs:
                recorded = list(reversed(runs.select(Query(MAX_RUNS, since=since))))
        except (OSError, PyMongoError) as error:
            print(f"report: {unreadable(error)}", file=sys.stderr)
            self.exitcode = EXIT_UNREADABLE
            return
        stories, note = read_stories(self.settings, since)
        data = ReportData(since, now, stories, recorded, note)
        out = Path(opts.out)
        out.write_text(render(data, datetime.now().astimezone().tzinfo), encoding="utf-8")
        print(f"Wrote {out} ({len(recorded)} runs, "
              f"{sum(sum(c.values()) for c in stories.values())} stories)")  # fmt: skip
