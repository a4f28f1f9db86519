"""East Money readers against every recorded response: each fixture and its expected JSON."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.http import HtmlResponse, TextResponse

from crawler.sources.eastmoney.endpoints import ARTICLE_URL
from crawler.sources.eastmoney.listing import FEEDS, ListingParser, flash_article, flash_needs_page
from crawler.sources.eastmoney.pages import news_text_body, parse_article_page
from tests.conftest import FIXTURES

if TYPE_CHECKING:
    from pathlib import Path

    from crawler.items import Article


EASTMONEY = FIXTURES / "eastmoney"
EXPECTED = sorted(EASTMONEY.glob("*.expected.json"))
# Set to rewrite the expected JSON from the parsers' output (then review the diff by hand).
REGENERATE = os.environ.get("FINEWS_REGENERATE_FIXTURES") == "1"


def response_for(spec: dict[str, Any]) -> TextResponse:
    """Build the response an expected-JSON file describes (URL, headers, fixture bytes)."""
    body = (EASTMONEY / spec["fixture"]).read_bytes()
    headers = {"Content-Type": spec["content_type"]}
    cls = HtmlResponse if spec["content_type"].startswith("text/html") else TextResponse
    return cls(spec["url"], body=body, headers=headers)


def raw_fields(article: Article) -> dict[str, Any]:
    """Return the fields a parser filled (not the empty defaults)."""
    skip = {"schema_version"}
    return {
        k: v
        for k, v in dataclasses.asdict(article).items()
        if k not in skip and v not in (None, [])
    }


def run_parser(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the parser an expected-JSON file names and return its output as JSON data."""
    response = response_for(spec)
    kind, _, feed = spec["parser"].partition(":")
    if kind == "listing":
        parser = ListingParser(FEEDS[feed], ARTICLE_URL)
        page = parser.parse(response.text)
        output: dict[str, Any] = {
            "total": page.total,
            "cursor": page.cursor,
            "entries": [dataclasses.asdict(e) for e in page.entries],
            "skipped": [list(s) for s in page.skipped],
        }
        if feed == "724":
            output["flashes"] = [
                {"needs_page": flash_needs_page(e), **raw_fields(flash_article(e))}
                for e in page.entries
            ]
        return output
    if kind == "article_page":
        return raw_fields(parse_article_page(response))
    if kind == "news_text":
        return {"body_html": news_text_body(response.text)}
    raise AssertionError(f"unknown parser {spec['parser']}")


@pytest.mark.parametrize("path", EXPECTED, ids=[p.name for p in EXPECTED])
def test_fixture_matches_expected(path: Path) -> None:
    spec = json.loads(path.read_text("utf-8"))
    output = json.loads(json.dumps(run_parser(spec)))  # tuples as JSON lists
    if REGENERATE:
        spec["output"] = output
        path.write_text(json.dumps(spec, ensure_ascii=False, indent=1) + "\n", "utf-8")
    assert output == spec["output"]


def test_every_page_and_feed_fixture_has_expected_json() -> None:
    covered = {json.loads(p.read_text("utf-8"))["fixture"] for p in EXPECTED}
    inputs = {
        p.name
        for p in EASTMONEY.iterdir()
        if p.name.startswith(("page_", "column_", "finews_", "getnewstext_", "FIXTURE_em_get"))
        and p.suffix in {".html", ".json", ".jsonp"}
        and not p.name.endswith(".expected.json")
    }
    assert inputs <= covered


def test_article_fixtures_have_required_raw_fields() -> None:
    for path in EXPECTED:
        spec = json.loads(path.read_text("utf-8"))
        if spec["parser"] == "article_page":
            output = spec["output"]
            assert output["title"], path.name
            assert output["published_text"], path.name
            assert output["body_html"], path.name
