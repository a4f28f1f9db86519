"""``scrapy extract``: the operator's check of a page, as a subprocess like an operator runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import FIXTURES, ROOT

# Whole crawls or commands in subprocesses: `-m 'not e2e'` leaves them out of a quick run.
pytestmark = pytest.mark.e2e


def run_extract(*targets: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "extract", "--nolog", *targets],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_prints_one_normalised_object_per_page_in_order() -> None:
    pages = FIXTURES / "pages"
    result = run_extract(str(pages / "xinhuanet_1.html"), str(pages / "163_1.html"))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in records] == ["xinhuanet_1.html", "163_1.html"]
    first, second = records
    assert set(first) == {"file", "title", "publish_time", "source", "authors", "body_text", "lang"}
    assert first["title"] == "法国全国大罢工再次严重影响交通"
    assert first["publish_time"] == "2019-12-10T07:57:40+08:00"
    assert second["publish_time"] == "2019-09-07T13:43:45+08:00"
    assert second["source"] == "证券市场红周刊"
    assert (first["lang"], second["lang"]) == ("zh", "zh")
    assert "\n" in second["body_text"]


def test_missing_file_is_a_usage_error() -> None:
    result = run_extract("no/such/page.html")
    assert result.returncode == 2
    assert "no such file" in result.stderr
    assert result.stdout == ""
