"""Import of the original's posts: every variant of the 165 samples, and each broken-post kind."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.jekyll import (
    BrokenPost,
    article_from_post,
    import_posts,
    parse_post,
    post_code,
    post_paths,
    publisher_from_tag,
)
from tests.conftest import FIXTURES, ROOT

FETCHED = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
POSTS_DIR = FIXTURES / "finews-posts" / "posts"
SEED = FIXTURES / "seed" / "2022-05-20-NW202205202386046762.md"
GOOD_FRONT = '---\nlayout: post\ntitle: "标题"\ndate: 2022-05-20 09:51:48 +0800\n'


def test_seed_becomes_a_media_article() -> None:
    article = article_from_post(SEED.name, SEED.read_text(encoding="utf-8"), FETCHED)
    assert article.native_id == "202205202386046762"
    assert article.source == "eastmoney"
    assert article.feed == "media"
    assert article.publisher == "中国市场监管新闻网"
    assert article.url == "https://finance.eastmoney.com/a/202205202386046762.html"
    assert article.published_text == "2022-05-20 09:51:48 +0800"
    assert article.body_html.startswith("<p>量以载道")
    assert article.body_html.endswith("（文章来源：中国市场监管新闻网）</p>")


def test_rolling_post_with_digest() -> None:
    path = POSTS_DIR / "2022-04-21-202204212352230938.md"
    article = article_from_post(path.name, path.read_text(encoding="utf-8"), FETCHED)
    assert article.feed == "rolling"
    assert article.publisher is None  # the body's credit line names it, in the attribution stage
    assert article.summary.startswith("长春发布《关于支持市场主体纾困")
    assert article.body_html.startswith("<p>长春发布")
    assert article.url == "http://finance.eastmoney.com/news/1350,202204212352230938.html"


@pytest.mark.parametrize(
    ("tag", "publisher"),
    [
        ("中国市场监管新闻网新闻", "中国市场监管新闻网"),
        ("每日经济新闻新闻", "每日经济新闻"),
        ("新闻", None),
    ],
)
def test_publisher_from_tag(tag: str, publisher: str | None) -> None:
    assert publisher_from_tag(tag) == publisher


@pytest.mark.parametrize(
    ("filename", "link", "code"),
    [
        ("2022-05-20-NW202205202386046762.md", None, "202205202386046762"),
        ("2021-12-08-202112082206672930__old_post_fe8c3e7.md", None, "202112082206672930"),
        ("-202205262391921712.md", None, "202205262391921712"),
        (
            "post.md",
            "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202205202386046762",
            "202205202386046762",
        ),
        (
            "post.md",
            "http://finance.eastmoney.com/news/11060,202112082206672930.html",
            "202112082206672930",
        ),
        ("post.md", "http://example.com/1.html", None),
    ],
)
def test_post_code(filename: str, link: str | None, code: str | None) -> None:
    assert post_code(filename, link) == code


def test_every_sample_variant_is_read() -> None:
    """All 165 samples: only the empty-title record is refused; the other variants are read."""
    paths = post_paths(POSTS_DIR)
    assert len(paths) == 165
    report = import_posts(paths, lambda article: article, FETCHED)
    assert report.read == 165
    assert report.broken == [("-202205262391921712.md", "empty title")]
    assert report.imported == 164


def test_variants_leading_blank_line_no_timezone_empty_link() -> None:
    blank = POSTS_DIR / "2021-12-08-202112082206672930__posts_cfbae48.md"
    article = article_from_post(blank.name, blank.read_text(encoding="utf-8"), FETCHED)
    assert article.title == "离岸人民币兑美元升至2018年以来最高水平"
    assert article.published_text == "2021-12-08 10:46:18"
    assert article.body_html == "离岸人民币兑美元升至6.3512，为2018年以来最高水平。"
    empty_link = POSTS_DIR / "2021-12-08-202112082206870651.md"
    article = article_from_post(empty_link.name, empty_link.read_text(encoding="utf-8"), FETCHED)
    assert article.url == "https://finance.eastmoney.com/a/202112082206870651.html"


def test_unescaped_quotes_of_the_original_are_kept() -> None:
    post = parse_post(GOOD_FRONT.replace('"标题"', '"他说"好"的"') + "---\n<p>正文</p>")
    assert post.title == '他说"好"的'


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("2022-05-20-NW202205202386046762.md", "<p>no front matter</p>", "no front matter"),
        (
            "2022-05-20-NW202205202386046762.md",
            GOOD_FRONT + "<p>never closed</p>",
            "no front matter",
        ),
        (
            "2022-05-20-NW202205202386046762.md",
            GOOD_FRONT.replace("标题", "") + "---\n<p>x</p>",
            "empty title",
        ),
        (
            "2022-05-20-NW202205202386046762.md",
            '---\ntitle: "t"\ndate:  +0800\n---\n<p>x</p>',
            "empty date",
        ),
        (
            "2022-05-20-post.md",
            GOOD_FRONT + "---\n<p>x</p>\n\n<>",
            "no East Money id in the file name or link",
        ),
        (
            "2022-05-20-NW202205202386046762.md",
            GOOD_FRONT + "---\n\n\n<http://a.cn/>",
            "empty body",
        ),
    ],
)
def test_broken_post_kinds(name: str, text: str, reason: str) -> None:
    with pytest.raises(BrokenPost, match=reason):
        article_from_post(name, text, FETCHED)


def test_broken_posts_are_reported_by_name_and_counted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "2022-05-20-NW202205202386046762.md").write_bytes(SEED.read_bytes())
    (tmp_path / "2022-05-21-NW202205212386046762.md").write_bytes(b"---\ntitle: \xff\n---\n")
    (tmp_path / "2022-05-22-NW202205222386046762.md").write_text(
        "no front matter", encoding="utf-8"
    )
    report = import_posts(post_paths(tmp_path), lambda article: article, FETCHED)
    assert (report.read, report.imported) == (3, 1)
    assert report.broken == [
        ("2022-05-21-NW202205212386046762.md", "not UTF-8"),
        ("2022-05-22-NW202205222386046762.md", "no front matter"),
    ]


def test_pipeline_drops_are_counted(chain, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "2022-05-20-NW202205202386046762.md"
    path.write_text(
        GOOD_FRONT + "---\n<p><img src='/a.jpg'></p>\n\n<http://a.cn/>", encoding="utf-8"
    )
    report = import_posts([path], chain.process, FETCHED)
    assert report.dropped == {"empty_body": 1}
    assert report.imported == 0


@pytest.mark.e2e
def test_import_command_reports_counts_and_broken_posts_by_name() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "import-jekyll", str(POSTS_DIR), "--nolog",
         "-s", "NEWS_MONGO_URI=", "-s", "NEWS_RUNS_ENABLED=False"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "import-jekyll: read=165 imported=164 broken=1 dropped=0"
    )
    assert "broken post -202205262391921712.md: empty title" in result.stderr
