"""The generic extractor on 19 saved pages of 14 sites (tests/fixtures/pages), encodings, bad input."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from datetime import date, datetime

import pytest
from lxml import html
from scrapy.http import HtmlResponse

from crawler.extract import (
    ExtractedArticle,
    detect_encoding,
    extract_article,
    extract_from_response,
)
from crawler.extract.dom import text_lines
from crawler.vocabulary import CHINA_TZ
from tests.conftest import FIXTURES

PAGES = FIXTURES / "pages"
TRUTH = {
    row["file"]: row
    for row in (
        json.loads(line) for line in (PAGES / "truth.jsonl").read_text("utf-8").splitlines()
    )
}
FILES = sorted(TRUTH)

# Per-page body floor (bigram F1 of the raw body text against truth, credit lines included), and
# the aggregate targets of the project (shared scorer definitions).
MIN_PAGE_BODY_F1 = 0.9
TARGETS = {"body_f1": 0.95, "title": 0.95, "time": 0.95, "source": 0.90}

SOURCE_LABEL = re.compile(r"^(本文来源|文章来源|信息来源|来源于|来源|稿源|出处)\s*[:：]?\s*")
TIME_PARTS = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[T\s]*(\d{1,2})\s*[:：]\s*(\d{1,2}))?"
)


def squeeze(text: str | None) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def norm_source(text: str | None) -> str:
    return SOURCE_LABEL.sub("", squeeze(text)).casefold().strip(":：,，.。|")


def time_parts(text: str | None) -> tuple[date, tuple[int, int] | None] | None:
    """Return (date, (hour, minute) or None) of a China-time text, ISO or Chinese style."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        match = TIME_PARTS.search(text)
        if match is None:
            return None
        year, month, day, hour, minute = (int(part) if part else None for part in match.groups())
        clock = (hour, minute) if hour is not None else None
        return date(year, month, day), clock
    if moment.tzinfo is not None:
        moment = moment.astimezone(CHINA_TZ)
    return moment.date(), (moment.hour, moment.minute) if ":" in text else None


def body_text(article: ExtractedArticle) -> str:
    if not article.body_html:
        return ""
    return "\n".join(text_lines(html.fragment_fromstring(article.body_html, create_parent="div")))


def bigram_f1(predicted: str, gold: str) -> float:
    def bigrams(text: str) -> Counter[str]:
        text = squeeze(text)
        return Counter(text[i : i + 2] for i in range(len(text) - 1))

    got, want = bigrams(predicted), bigrams(gold)
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def title_ok(article: ExtractedArticle, truth: dict) -> bool:
    return squeeze(article.title) in {
        squeeze(t) for t in [truth["title"], *truth.get("title_alt", [])]
    }


def time_ok(article: ExtractedArticle, truth: dict) -> bool:
    got, want = time_parts(article.publish_time), time_parts(truth["publish_time"])
    if want is None:
        return got is None
    if got is None or got[0] != want[0]:
        return False
    return want[1] is None or got[1] == want[1]


def source_ok(article: ExtractedArticle, truth: dict) -> bool:
    accepted = {norm_source(s) for s in [truth["source"], *truth.get("source_alt", [])] if s}
    if not article.publisher:
        return truth["source"] is None
    return norm_source(article.publisher) in accepted


@pytest.fixture(scope="module")
def extracted() -> dict[str, ExtractedArticle]:
    return {name: extract_article((PAGES / name).read_bytes()) for name in FILES}


# ---------------------------------------------------------------- per page
@pytest.mark.parametrize("name", FILES)
def test_title(extracted: dict[str, ExtractedArticle], name: str) -> None:
    assert title_ok(extracted[name], TRUTH[name]), extracted[name].title


@pytest.mark.parametrize("name", FILES)
def test_publish_time_text(extracted: dict[str, ExtractedArticle], name: str) -> None:
    assert time_ok(extracted[name], TRUTH[name]), extracted[name].publish_time


@pytest.mark.parametrize("name", FILES)
def test_publisher(extracted: dict[str, ExtractedArticle], name: str) -> None:
    assert source_ok(extracted[name], TRUTH[name]), extracted[name].publisher


@pytest.mark.parametrize("name", FILES)
def test_body(extracted: dict[str, ExtractedArticle], name: str) -> None:
    f1 = bigram_f1(body_text(extracted[name]), TRUTH[name]["body_text"])
    assert f1 >= MIN_PAGE_BODY_F1, f"{name}: body F1 {f1:.3f}"


def test_aggregate_scores_meet_targets(extracted: dict[str, ExtractedArticle]) -> None:
    articles = [(extracted[name], TRUTH[name]) for name in FILES]
    scores = {
        "body_f1": sum(bigram_f1(body_text(a), t["body_text"]) for a, t in articles),
        "title": sum(title_ok(a, t) for a, t in articles),
        "time": sum(time_ok(a, t) for a, t in articles),
        "source": sum(source_ok(a, t) for a, t in articles),
    }
    means = {field: total / len(articles) for field, total in scores.items()}
    assert all(means[field] >= target for field, target in TARGETS.items()), means


def test_body_html_is_block_markup(extracted: dict[str, ExtractedArticle]) -> None:
    body = extracted["163_1.html"].body_html or ""
    assert body.startswith("<div")
    assert "<p>" in body
    assert "原标题" not in body
    assert "分享到" not in body


@pytest.mark.parametrize(
    ("name", "authors"),
    [
        ("csdn_1.html", ["魏星"]),
        ("zyyfy_1.html", ["医技药剂党支部"]),
        ("ednchina_1.html", ["网络整理"]),
    ],
)
def test_labelled_authors(
    extracted: dict[str, ExtractedArticle], name: str, authors: list[str]
) -> None:
    assert extracted[name].authors == authors


# ---------------------------------------------------------------- encodings
def gbk_page() -> bytes:
    """A real page re-encoded as gb18030 with a gbk <meta> declaration."""
    text = (PAGES / "xinhuanet_1.html").read_text("utf-8")
    text = re.sub(r"<meta[^>]+charset[^>]*>", "", text, flags=re.I)
    text = text.replace(
        "<head>", '<head><meta http-equiv="Content-Type" content="text/html; charset=gbk">', 1
    )
    return text.encode("gb18030")


def test_declared_gb2312_but_utf8_bytes() -> None:
    body = (PAGES / "qq_1.html").read_bytes()
    assert b"gb2312" in body[:4096].lower()
    article = extract_article(body)
    assert article.encoding == "utf-8"
    assert article.title == TRUTH["qq_1.html"]["title"]


def test_real_gbk_bytes() -> None:
    article = extract_article(gbk_page())
    assert article.encoding == "gb18030"
    assert article.title == TRUTH["xinhuanet_1.html"]["title"]
    assert article.publisher == "新华网"


def test_header_charset_without_meta() -> None:
    body = re.sub(rb"<meta[^>]+charset[^>]*>", b"", gbk_page(), flags=re.I)
    assert detect_encoding(body, {"content-type": b"text/html; charset=GBK"}) == "gb18030"
    assert (
        extract_article(body, headers={"Content-Type": "text/html; charset=gbk"}).title
        == (TRUTH["xinhuanet_1.html"]["title"])
    )


def test_header_utf8_but_gbk_bytes() -> None:
    assert detect_encoding(gbk_page(), {"Content-Type": "text/html; charset=utf-8"}) == "gb18030"


def test_bom_wins_over_declarations() -> None:
    page = (PAGES / "xinhuanet_1.html").read_text("utf-8").replace("charset=utf-8", "charset=gbk")
    body = b"\xef\xbb\xbf" + page.encode("utf-8")
    article = extract_article(body, headers={"Content-Type": "text/html; charset=gbk"})
    assert article.encoding == "utf-8"
    assert article.title == TRUTH["xinhuanet_1.html"]["title"]


def test_extract_from_response_uses_header_charset() -> None:
    body = re.sub(rb"<meta[^>]+charset[^>]*>", b"", gbk_page(), flags=re.I)
    response = HtmlResponse(
        "https://news.example.cn/a/1.html",
        body=body,
        headers={"Content-Type": "text/html; charset=GBK"},
    )
    article = extract_from_response(response)
    assert article.encoding == "gb18030"
    assert article.title == TRUTH["xinhuanet_1.html"]["title"]


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n\t",
        b"just some plain text, no markup at all",
        bytes(range(256)) * 40,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64,
        b"<html><head><title>",
        b"<<<>>><//p><div<a href=>",
        b'{"title": "json, not html"}',
        "<p>没有结束标签的段落".encode("gb18030"),
        b"<div>" * 3000 + b"deep" + b"</div>" * 3000,
    ],
)
def test_bad_input_never_raises(body: bytes) -> None:
    article = extract_article(body)
    assert isinstance(article, ExtractedArticle)
    assert article.encoding


@pytest.mark.parametrize("body", [b"", b"just some plain text", bytes(range(256)) * 4])
def test_non_html_gives_empty_fields(body: bytes) -> None:
    article = extract_article(body)
    assert (article.title, article.publish_time, article.publisher, article.body_html) == (
        None,
        None,
        None,
        None,
    )
    assert article.authors == []
