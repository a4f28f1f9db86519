"""Export to the original's Jekyll posts: the golden seed, the 165-post round trip, YAML, reruns."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import mongomock
import pytest
import yaml
from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from crawler.jekyll import (
    MANIFEST,
    BrokenPost,
    article_from_post,
    credit_lines,
    export_posts,
    format_post,
    parse_post,
    post_paths,
)
from tests.conftest import FIXTURES

FETCHED = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
SEED = FIXTURES / "seed" / "2022-05-20-NW202205202386046762.md"
POSTS = post_paths(FIXTURES / "finews-posts" / "posts")

# Every difference between an original post and its export is one of the original's bugs, fixed.
NO_TIMEZONE = "the original wrote early dates without their +0800 offset"
FIXED_BUGS: dict[tuple[str, str], str] = {
    ("2022-05-30-NW202205302396506117.md", "categories"): "央行 read as yangxing, not yanghang",
    ("2022-06-14-NW202206142412311033.md", "categories"): "东方财富研究中心 is 东方财富网 (alias)",
    ("2022-06-14-NW202206142412311033.md", "tags"): "东方财富研究中心 is 东方财富网 (alias)",
}
BROKEN_SAMPLES = {"-202205262391921712.md": "empty title"}


def stored(chain, name: str, text: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """Import a post through the chain; return the document as storage keeps it."""
    article = chain.process(article_from_post(name, text, FETCHED))
    doc = ItemAdapter(article).asdict()
    doc["_id"] = doc.pop("id")
    return doc


def front_matter(text: str) -> dict:  # type: ignore[type-arg]
    """Parse a post's front matter with a real YAML parser."""
    assert text.startswith("---\n")
    return yaml.safe_load(text[4:].split("\n---\n", 1)[0])


def test_golden_seed_round_trip_is_byte_identical(chain) -> None:  # type: ignore[no-untyped-def]
    doc = stored(chain, SEED.name, SEED.read_text(encoding="utf-8"))
    assert "文章来源" not in doc["body_html"]  # the credit lines live in fields, not in the body
    post = format_post(doc)
    assert post.filename == SEED.name
    assert post.text.encode("utf-8") == SEED.read_bytes()


def test_golden_seed_through_mongo_is_byte_identical(chain, tmp_path) -> None:  # type: ignore[no-untyped-def]
    collection = mongomock.MongoClient().finews.articles
    collection.insert_one(stored(chain, SEED.name, SEED.read_text(encoding="utf-8")))
    report = export_posts(collection.find(), tmp_path)
    assert report.written == [SEED.name]
    assert (tmp_path / SEED.name).read_bytes() == SEED.read_bytes()


@pytest.mark.parametrize("path", POSTS, ids=lambda p: p.name)
def test_sample_round_trip(chain, path) -> None:  # type: ignore[no-untyped-def]
    text = path.read_text(encoding="utf-8")
    if path.name in BROKEN_SAMPLES:
        with pytest.raises(BrokenPost, match=BROKEN_SAMPLES[path.name]):
            article_from_post(path.name, text, FETCHED)
        return
    first = stored(chain, path.name, text)
    post = format_post(first)
    again = stored(chain, post.filename, post.text)
    for field in ("title", "published_at", "publisher", "body_text", "authors", "summary", "feed"):
        assert again[field] == first[field], field
    original, exported = parse_post(text), front_matter(post.text)
    assert exported["title"] == original.title
    if original.date.endswith("+0800"):
        assert exported["date"] == original.date
    else:
        assert exported["date"] == original.date + " +0800", NO_TIMEZONE
    for field in ("categories", "tags"):
        if (path.name, field) in FIXED_BUGS:
            assert exported[field] != getattr(original, field)
        else:
            assert exported[field] == getattr(original, field), field


@pytest.mark.parametrize(
    "title",
    [
        '他说"好"',
        "C:\\path\\to",
        "标题：副标题: 英文冒号",
        "第一行\n第二行",
        "# 不是注释",
        "- 不是列表",
        "'单引号'",
        "tab\there",
        "\u2028line separator\x85nel",
        "yes",
        "{[&*!|>%@`]}",
    ],
)
def test_titles_give_valid_yaml(chain, title) -> None:  # type: ignore[no-untyped-def]
    doc = stored(chain, SEED.name, SEED.read_text(encoding="utf-8"))
    doc["title"] = title
    post = format_post(doc)
    assert front_matter(post.text)["title"] == title
    assert parse_post(post.text).title == title


@pytest.mark.parametrize(
    ("publisher", "slug"),
    [("中国证券报", "zhongguozhengquanbao"), ("yes", "yes"), ("A: B", "ab"), ("123", "123")],
)
def test_categories_and_tags_give_valid_yaml(chain, publisher, slug) -> None:  # type: ignore[no-untyped-def]
    doc = stored(chain, SEED.name, SEED.read_text(encoding="utf-8"))
    doc["publisher"], doc["publisher_slug"] = publisher, slug
    front = front_matter(format_post(doc).text)
    assert (front["categories"], front["tags"]) == (slug, publisher + "新闻")


def test_article_without_title_or_date_is_not_a_post(chain, tmp_path) -> None:  # type: ignore[no-untyped-def]
    doc = stored(chain, SEED.name, SEED.read_text(encoding="utf-8"))
    docs = [
        {**doc, "_id": "eastmoney:1", "title": " "},
        {**doc, "_id": "eastmoney:2", "published_at": None},
        doc,
    ]
    report = export_posts(docs, tmp_path)
    assert report.skipped == {"missing_title": 1, "missing_date": 1}
    assert report.written == [SEED.name]


def test_rerun_writes_nothing_and_changes_rewrite(chain, tmp_path) -> None:  # type: ignore[no-untyped-def]
    collection = mongomock.MongoClient().finews.articles
    for path in POSTS[1:21]:
        collection.replace_one(
            {"_id": (doc := stored(chain, path.name, path.read_text(encoding="utf-8")))["_id"]},
            doc,
            upsert=True,
        )
    first = export_posts(collection.find(), tmp_path, pages_dir=tmp_path / "category")
    files = sorted(p.name for p in tmp_path.glob("*.md"))
    assert len(first.written) == len(files) == collection.count_documents({})
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}

    second = export_posts(collection.find(), tmp_path, pages_dir=tmp_path / "category")
    assert (second.written, second.removed, second.unchanged) == ([], [], len(files))
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == stamps

    changed = collection.find_one({"feed": "rolling"})
    collection.update_one({"_id": changed["_id"]}, {"$set": {"title": "更正后的标题"}})
    third = export_posts(collection.find(), tmp_path)
    assert third.written == [format_post(changed).filename]
    assert front_matter((tmp_path / third.written[0]).read_text(encoding="utf-8"))["title"] == (
        "更正后的标题"
    )


def test_changed_date_moves_the_post_without_duplicate(chain, tmp_path) -> None:  # type: ignore[no-untyped-def]
    doc = stored(chain, SEED.name, SEED.read_text(encoding="utf-8"))
    export_posts([doc], tmp_path)
    moved = {**doc, "published_at": datetime(2022, 5, 21, 1, 0, tzinfo=UTC)}
    report = export_posts([moved], tmp_path)
    assert report.removed == [SEED.name]
    assert sorted(p.name for p in tmp_path.glob("*.md")) == ["2022-05-21-NW202205202386046762.md"]
    assert MANIFEST in {p.name for p in tmp_path.iterdir()}


def test_cross_feed_twins_become_one_post(chain, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The original wrote the same infoCode twice (rolling and media): one article, one post."""
    names = ["2022-05-30-202205302396506117.md", "2022-05-30-NW202205302396506117.md"]
    docs = [stored(chain, n, (POSTS[0].parent / n).read_text(encoding="utf-8")) for n in names]
    assert docs[0]["_id"] == docs[1]["_id"]
    export_posts(docs, tmp_path)
    assert [p.name for p in tmp_path.glob("*.md")] == [names[1]]


def test_rolling_variant(chain) -> None:  # type: ignore[no-untyped-def]
    path = POSTS[0].parent / "2022-04-21-202204212352230938.md"
    post = format_post(stored(chain, path.name, path.read_text(encoding="utf-8")))
    front = front_matter(post.text)
    assert (front["categories"], front["tags"]) == ("emnews", "东财滚动新闻")
    body = post.text.split("\n---\n", 1)[1]
    assert body.startswith("> 长春发布《关于支持市场主体纾困促进经济恢复发展的若干政策措施》。")
    assert "\n\n<p>长春发布" in body
    assert body.endswith(
        '<p class="em_media">（文章来源：财联社）</p>\n\n'
        "<http://finance.eastmoney.com/news/1350,202204212352230938.html>\n\n"
        "[返回东财滚动新闻](//finews.withounder.com/emnews/)｜[返回首页](//finews.withounder.com/)"
    )


def test_site_url_option(chain) -> None:  # type: ignore[no-untyped-def]
    post = format_post(stored(chain, SEED.name, SEED.read_text(encoding="utf-8")), "https://x.org/")
    assert post.text.endswith(
        "[返回中国市场监管新闻网新闻](https://x.org/category/zhongguoshichangjianguanxinwenwang.html)"
        "｜[返回首页](https://x.org/)"
    )


def test_dropped_sample_never_reaches_export(chain) -> None:  # type: ignore[no-untyped-def]
    article = article_from_post(
        "2022-05-20-NW202205202386046762.md",
        '---\ntitle: "t"\ndate: 2099-01-01 00:00:00 +0800\n---\n<p>正文</p>',
        FETCHED,
    )
    with pytest.raises(DropItem, match="missing_published_at"):
        chain.process(article)


# --- Liquid ---------------------------------------------------------------------------------

_RAW_OR_STRING = re.compile(r'\{% raw %\}(.*?)\{%-?\s*endraw\s*-?%\}|\{\{ "(\{%)" \}\}', re.S)


def liquid_rendered(post: str) -> str:
    """What Liquid prints for a post's content (after the front matter, which it leaves alone)
    when it uses only raw blocks and ``{{ "{%" }}``; fails on any other Liquid markup, which
    would break the build or be evaluated."""
    text = post.split("\n---\n", 1)[1]
    rendered, rest = [], 0
    for match in _RAW_OR_STRING.finditer(text):
        outside = text[rest : match.start()]
        assert not re.search(r"\{[{%]", outside), outside
        rendered += [outside, match[1] if match[1] is not None else match[2]]
        rest = match.end()
    assert not re.search(r"\{[{%]", text[rest:]), text[rest:]
    return "".join(rendered) + text[rest:]


@pytest.mark.parametrize(
    ("body", "wrapped"),
    [
        ("<p>{{ site.x }}</p>", True),
        ("<p>{% include evil.html %}</p>", True),
        ("<p>{%- assign x = 1 -%}{{x}}</p>", True),
        ("<p>a{% endraw %}{{ site.x }}</p>", True),
        ("<p>{%- endraw -%} and {%endraw%}</p>", True),
        ('<p>{% endraw %}{{ "{%" }}{% raw %}</p>', True),
        ("<p>{%</p>", True),
        ("<p>{# 不是 Liquid #} {a} %} }}</p>", False),
        ("<p>正文</p>", False),
    ],
)
def test_liquid_in_the_body_is_kept_raw_and_round_trips(chain, body: str, wrapped: bool) -> None:  # type: ignore[no-untyped-def]
    doc = stored(chain, SEED.name, SEED.read_text(encoding="utf-8"))
    doc["body_html"] = body
    post = format_post(doc)
    assert ("{% raw %}" in post.text) == wrapped
    credits = credit_lines(doc)
    assert parse_post(post.text).body == body + credits
    assert body + credits in liquid_rendered(post.text)
    again = stored(chain, post.filename, post.text)
    assert again["body_html"] == doc["body_html"]


def test_liquid_in_digest_and_publisher_is_kept_raw(chain) -> None:  # type: ignore[no-untyped-def]
    path = POSTS[0].parent / "2022-04-21-202204212352230938.md"
    doc = stored(chain, path.name, path.read_text(encoding="utf-8"))
    doc["summary"] = "【标题】摘要 {{ site.x }}"
    doc["publisher"] = "{% include x %}"
    post = format_post(doc)
    rendered = liquid_rendered(post.text)
    assert "> 摘要 {{ site.x }}\n" in rendered
    assert "（文章来源：{% include x %}）</p>" in rendered
    parsed = parse_post(post.text)
    assert parsed.digest == "摘要 {{ site.x }}"
    assert parsed.body.endswith("（文章来源：{% include x %}）</p>")
    media = {**doc, "feed": "media", "publisher_slug": "x"}
    assert "[返回{% include x %}新闻]" in liquid_rendered(format_post(media).text)


def test_posts_without_liquid_markup_are_written_as_the_original() -> None:
    for path in POSTS:
        assert "{% raw %}" not in path.read_text(encoding="utf-8")
    assert "{% raw %}" not in SEED.read_text(encoding="utf-8")
