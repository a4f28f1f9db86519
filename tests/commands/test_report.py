"""``scrapy report``: the figures behind the charts, the page, and the page as a real headless
Chromium renders it.

Runs are the recorded ones (tests/fixtures/runs/). Stories are reconstructed from them (marked
so): each ``site`` run's stored articles, first seen when the run finished, under source
``local``, as the crawl stored them.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.utils.project import get_project_settings

from crawler.commands.report import (
    Command,
    ReportData,
    drops_by_reason,
    duplicate_rates,
    hourly_stories,
    latest_coverage,
    render,
)
from crawler.commands.runs import Query, read_file, select
from tests.conftest import FIXTURES

if TYPE_CHECKING:
    from pathlib import Path

RUNS = list(reversed(select(read_file(FIXTURES / "runs" / "runs.jsonl"), Query(last=100))))
SITE = [r for r in RUNS if r["spider"] == "site"]
#: Reconstructed: the stories the site runs stored, first seen at each run's end.
STORIES = [
    {"source": "local", "first_seen_at": run["finished_at"]}
    for run in SITE
    for _ in range(run["items"]["stored"])
]


def data() -> ReportData:
    since = RUNS[0]["started_at"] - timedelta(hours=5)
    now = RUNS[-1]["finished_at"] + timedelta(minutes=5)
    return ReportData(since, now, hourly_stories(STORIES), RUNS)


def test_figures_behind_the_charts() -> None:
    stories = hourly_stories(STORIES)
    assert {source: sum(c.values()) for source, c in stories.items()} == {"local": 35}
    assert drops_by_reason(RUNS) == {"missing_published_at": 3}
    coverage = latest_coverage(RUNS)
    assert coverage["site"]["published_at"] == 1.0  # its last run, not the one at 40 %
    assert set(coverage) == {"site", "ops_pages"}  # ops_empty never saw an article
    # site: 2 duplicates of 22 + 6 + 2 + 0 + 5 stored and the 2 duplicates themselves.
    assert duplicate_rates(RUNS) == {"site": pytest.approx(2 / 37)}  # ops_pages stores nothing


def test_page_is_self_contained() -> None:
    page = render(data())
    assert page.count("<svg ") == 5
    assert "<script" not in page
    # No resource from elsewhere: the only URL is SVG's namespace name.
    assert set(re.findall(r"https?://[^\"' ]+", page)) == {"http://www.w3.org/2000/svg"}
    assert "coverage of published_at 40% under 100%" in page  # a failed run's tooltip


def test_an_empty_window_still_draws_every_chart_with_a_note() -> None:
    since = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    page = render(ReportData(since, since + timedelta(days=1), {}, [], "storage is off"))
    assert page.count("<svg ") == 5
    assert "storage is off" in page
    assert "no run recorded in this window" in page


#: Added to a copy of the page: each chart's drawn size and shape count, as Chromium laid it out.
MEASURE = """<script>
document.body.setAttribute('data-charts', JSON.stringify(
  [...document.querySelectorAll('svg')].map(svg => {
    const box = svg.getBBox();
    return {label: svg.getAttribute('aria-label'), width: box.width, height: box.height,
            shapes: svg.querySelectorAll('rect, circle').length};
  })));
</script></body>"""


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium (as root it needs --no-sandbox)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


@pytest.mark.e2e
def test_chromium_renders_every_chart(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render(data()).replace("</body>", MEASURE), encoding="utf-8")
    dom = chromium("--dump-dom", page.as_uri()).stdout
    found = re.search(r'data-charts="([^"]*)"', dom)
    assert found, dom[:500]
    charts: list[dict[str, Any]] = json.loads(found[1].replace("&quot;", '"'))
    assert [c["label"] for c in charts] == [
        "Stories stored per source per hour",
        "Runs over time by health",
        "Articles dropped by reason",
        "Field coverage per spider",
        "Duplicate rate per spider",
    ]
    for chart in charts:
        assert chart["width"] > 100, chart
        assert chart["height"] > 10, chart
        assert chart["shapes"] > 0, chart
    runs_chart = charts[1]
    assert runs_chart["shapes"] == len(RUNS) + 2  # one dot a run, two in the legend


@pytest.mark.e2e
def test_chromium_screenshot(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render(data()), encoding="utf-8")
    shot = tmp_path / "report.png"
    chromium(f"--screenshot={shot}", "--window-size=1000,1500", "--hide-scrollbars", page.as_uri())
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_command_writes_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    cmd = Command()
    settings = get_project_settings()
    settings.setdict({"NEWS_RUNS_MONGO": False, "NEWS_MONGO_URI": "",
                      "NEWS_RUNS_FILE": str(FIXTURES / "runs" / "runs.jsonl")}, priority="cmdline")  # fmt: skip
    cmd.settings = settings
    parser = argparse.ArgumentParser()
    cmd.add_options(parser)
    # Days enough to reach back to the recorded runs from any later day.
    cmd.run([], parser.parse_args(["--out", str(out), "--days", "36500"]))
    assert capsys.readouterr().out == f"Wrote {out} (8 runs, 0 stories)\n"
    page = out.read_text()
    assert "storage is off (NEWS_MONGO_URI is empty): no stories to count" in page
    assert page.count("<circle ") == len(RUNS) + 2
