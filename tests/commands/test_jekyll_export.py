"""Export to the original's Jekyll posts: the golden seed, the 165-post round trip, YAML, reruns."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime

import lxml.html
import mongomock
import pytest
import yaml
from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from crawler import jekyll
from crawler.items import Article
from crawler.jekyll import (
    MANIFEST,
    BrokenPost,
    article_from_post,
    category_page,
    credit_lines,
    export_posts,
    format_post,
    parse_post,
    post_paths,
)
from crawler.normalize.body import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, sanitize_body
from tests.conftest import FIXTURES
from tests.test_properties import ATTRS, TAGS

FETCHED = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
SEED = FIXTURES / "seed" / "2022-05-20-NW202205202386046762.md"
POSTS = post_paths(FIXTURES / "finews-posts" / "posts")

# Every difference between an original post and its export is one of the original's bugs, fixed.
# Categories and tags name the publisher the attribution stage chose: listed ones may differ.
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
        if (path.name, field) not in FIXED_BUGS:
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
    assert front_matter(post.text)["title"] == html.escape(title)  # HTML, as layouts print it
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
        ("<p>{{ site.x }}</p>", False),
        ("<p>{% include evil.html %}</p>", False),
        ("<p>{%- assign x = 1 -%}{{x}}</p>", False),
        ("<p>a{% endraw %}{{ site.x }}</p>", False),
        ("<p>{# 不是 Liquid #} {a} %} }}</p>", False),
        ("<p>正文</p>", False),
        # Attribute values keep their characters: Liquid there is kept in raw blocks.
        ('<p><a href="https://x.cn/{{ site.x }}">正文</a></p>', True),
        ('<p><img src="https://x.cn/a.png" alt="{% include evil.html %}">正文</p>', True),
        ('<p><img src="https://x.cn/a.png" alt="a{% endraw %}{{ x }}">{%- endraw -%}</p>', True),
        ('<p><img src="https://x.cn/a.png" alt=\'{% endraw %}{{ "{%" }}{% raw %}\'>正文</p>', True),
    ],
)
def test_liquid_in_the_body_is_never_run_and_round_trips(chain, body, wrapped) -> None:  # type: ignore[no-untyped-def]
    doc = stored(chain, SEED.name, SEED.read_text(encoding="utf-8"))
    doc["body_html"] = body
    post = format_post(doc)
    assert ("{% raw %}" in post.text) == wrapped
    clean = sanitize_body(body)  # the export sanitises again; stored bodies are already clean
    shown = html.unescape(clean + credit_lines(doc))
    assert html.unescape(parse_post(post.text).body) == shown
    assert shown in html.unescape(liquid_rendered(post.text))
    again = stored(chain, post.filename, post.text)
    assert again["body_html"] == clean


def test_liquid_in_digest_and_publisher_is_never_evaluated(chain) -> None:  # type: ignore[no-untyped-def]
    path = POSTS[0].parent / "2022-04-21-202204212352230938.md"
    doc = stored(chain, path.name, path.read_text(encoding="utf-8"))
    doc["summary"] = "【标题】摘要 {{ site.x }}"
    doc["publisher"] = "{% include x %}"
    post = format_post(doc)
    rendered = html.unescape(liquid_rendered(post.text))
    assert "> 摘要 {{ site.x }}\n" in rendered
    assert "（文章来源：{% include x %}）</p>" in rendered
    parsed = parse_post(post.text)
    assert parsed.digest == "摘要 {{ site.x }}"
    assert html.unescape(parsed.body).endswith("（文章来源：{% include x %}）</p>")
    media = {**doc, "feed": "media", "publisher_slug": "x"}
    assert "[返回{% include x %}新闻]" in html.unescape(liquid_rendered(format_post(media).text))


def test_posts_without_liquid_markup_are_written_as_the_original() -> None:
    for path in POSTS:
        assert "{% raw %}" not in path.read_text(encoding="utf-8")
    assert "{% raw %}" not in SEED.read_text(encoding="utf-8")


# --- hostile text: nothing a browser could run (issue 15, item 8) ---------------------------

# The hostile markup of the property tests: every tag with every attribute that runs script.
SCRIPT_ATTRIBUTES = [a for a in ATTRS if re.search(r"^on|script|data:|formaction", a, re.I)]
# Markdown's and kramdown's own ways to a link, an element or an attribute.
MARKDOWN_VECTORS = [
    "[点我](javascript:alert(5))",
    "![图](data:text/html;base64,PHNjcmlwdD4=)",
    "[x][1]\n\n[1]: vbscript:alert(1)",
    "[x]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "[a](<javascript:alert(1)>)",
    "[a](java&#115;cript:alert(1))",
    '*强调*{: onmouseover="alert(1)"}',
    "{::nomarkdown}<script>alert(1)</script>{:/}",
    "{% raw %}<script>alert(1)</script>{% endraw %}",
    "{{ '<script>alert(1)</script>' }}",
    "`<img src=x onerror=alert(1)>`",
]


def xss_vectors() -> list[str]:
    """Each tag of the property tests, bare and with each script attribute, as markup and
    HTML-escaped (a feed's entities become text in the pipelines), and the Markdown vectors."""
    markup = [f"<{tag}>alert(1)</{tag}>" for tag in TAGS]
    markup += [f"<{tag} {attribute}>x</{tag}>" for tag in TAGS for attribute in SCRIPT_ATTRIBUTES]
    return markup + [html.escape(vector) for vector in markup] + MARKDOWN_VECTORS


SCRIPT_URL = re.compile(r"(?:javascript|data|vbscript):", re.I)
# Link targets in Markdown syntax, wherever they are: inline links and images, reference
# definitions (in a quote too), autolinks.
MARKDOWN_LINKS = [
    re.compile(r"\]\(\s*<?([^)>\s]*)"),
    re.compile(r"^[ \t>]*\[[^\]\n]*\]:[ \t]*<?([^\s>]*)", re.M),
]
AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*)>")
TAG = re.compile(r"<[^<>]*>")
# What the export writes itself besides the sanitised body: the credit line's class.
OWN_ATTRIBUTES = {("p", "class")}
DOCUMENT_TAGS = {"html", "head", "body"}


def is_script_url(url: str) -> bool:
    """Tell whether a browser would run ``url`` (references decoded, controls and spaces gone)."""
    return bool(SCRIPT_URL.match(re.sub(r"[\x00-\x20]", "", html.unescape(url))))


def markdown_runnable(text: str) -> list[str]:
    """What Markdown could turn into script, read conservatively (every link syntax is a link):
    script URLs in autolinks and links, kramdown attribute lists (``{: onclick=…}``) and
    extensions; then what the text holds as HTML (:func:`html_runnable`)."""
    found = [f"autolink {url}" for url in AUTOLINK.findall(text) if is_script_url(url)]
    text = AUTOLINK.sub(" ", text)
    markdown = TAG.sub(" ", text)  # attribute values are never Markdown
    for pattern in MARKDOWN_LINKS:
        found += [f"link {url}" for url in pattern.findall(markdown) if is_script_url(url)]
    found += [f"kramdown {m}" for m in re.findall(r"\{:[^}]*", markdown)]
    return found + html_runnable(text)


def html_runnable(text: str) -> list[str]:
    """What a browser could run in ``text`` read as HTML: elements and attributes outside the body
    sanitiser's allow-list (script, frames, forms, event handlers…), comments, script URLs."""
    found = []
    for element in lxml.html.document_fromstring(f"<div>{text}</div>").iter():
        if not isinstance(element.tag, str):
            found.append(f"comment {element!r}")
            continue
        if element.tag not in ALLOWED_TAGS | DOCUMENT_TAGS | {"div"}:
            found.append(f"element <{element.tag}>")
        for name, value in element.attrib.items():
            allowed = ALLOWED_ATTRIBUTES.get(element.tag, set())
            if name not in allowed and (element.tag, name) not in OWN_ATTRIBUTES:
                found.append(f"attribute <{element.tag} {name}={value!r}>")
            if is_script_url(value):
                found.append(f"URL <{element.tag} {name}={value!r}>")
    return found


def post_runnable(text: str) -> list[str]:
    """What a browser could run in a post: its front matter as a layout prints it (HTML), its
    content after Liquid (which must print it unchanged) and Markdown."""
    front, _ = text.split("\n---\n", 1)
    return html_runnable(front) + markdown_runnable(liquid_rendered(text))


def page_runnable(text: str) -> list[str]:
    """What a browser could run in a category page (HTML): its Liquid prints titles escaped."""
    unescaped = [
        o for o in re.findall(r"\{\{(.*?)\}\}", text) if "title" in o and "escape" not in o
    ]
    return [f"unescaped {o}" for o in unescaped] + html_runnable(text)


def test_the_checks_see_what_the_original_wrote() -> None:
    """The checks flag the issue's examples as the export used to write them."""
    assert post_runnable('---\ntitle: "<img src=x onerror=alert(2)>"\n---\n<p>x</p>')
    assert post_runnable("---\n---\n> {% raw %}<script>alert(4)</script>{% endraw %}\n")
    assert post_runnable("---\n---\n> [点我](javascript:alert(5))\n")
    assert post_runnable("---\n---\n<javascript:alert(1)>\n")
    assert post_runnable("---\n---\n<p><a href='java&#x09;script:x'>x</a></p>\n")
    assert page_runnable("[{{ post.title }}]({{ post.url | relative_url }})")
    assert not post_runnable(SEED.read_text(encoding="utf-8"))


def hostile_docs(chain, seed: dict, vector: str, n: int) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """The vector in every text field: through the pipelines (rolling and media news), and, when
    it is markup, written into the store as it is (a document MongoDB got by other means)."""
    raw = dict(
        source="eastmoney",
        fetched_at=FETCHED,
        via="eastmoney",
        title=f"标题{vector}",
        summary=f"【标题】摘要{vector}",
        published_text="2022-05-20 09:51:48 +0800",
        body_html=f"<p>正文{vector}</p><p>{vector}</p>",
        publisher=f"媒体{vector}",
        authors=[f"作者{vector}"],
    )
    docs = []
    for feed, kind in (("rolling", 1), ("media", 2)):
        code = f"20220520{kind}{n:09d}"
        url = f"https://finance.eastmoney.com/a/{code}.html"
        try:
            article = chain.process(Article(url=url, native_id=code, feed=feed, **raw))
        except DropItem:
            continue
        doc = ItemAdapter(article).asdict()
        doc["_id"] = doc.pop("id")
        docs.append(doc)
    if "&lt;" in vector:  # stored as it is, an escaped vector is harmless text
        return docs
    hostile = {"title": vector, "summary": f"【x】{vector}", "body_html": vector}
    hostile |= {"authors": [vector], "publisher": vector, "publisher_slug": vector}
    for source, feed in (("eastmoney", "rolling"), ("eastmoney", "media"), ("cmrnn", "media")):
        docs.append(
            seed
            | hostile
            | {
                "_id": f"{source}:{vector}{feed}",
                "native_id": vector,
                "source": source,
                "feed": feed,
                "url": vector,
            }
        )
    return docs


def test_no_post_or_page_can_run_script(chain, tmp_path) -> None:  # type: ignore[no-untyped-def]
    vectors = xss_vectors()
    assert len(vectors) > 600
    seed = stored(chain, SEED.name, SEED.read_text(encoding="utf-8"))
    docs = [doc for n, v in enumerate(vectors) for doc in hostile_docs(chain, seed, v, n)]
    piped = [doc for doc in docs if doc["native_id"].isdigit()]
    assert len(piped) > len(vectors)  # most through the pipelines too
    report = export_posts(docs, tmp_path / "_posts", pages_dir=tmp_path / "category")
    assert not report.skipped
    posts = sorted((tmp_path / "_posts").glob("*.md"))
    pages = sorted((tmp_path / "category").glob("*.html"))
    assert len(posts) == len(docs)
    assert {p.name for p in pages} == {f"{jekyll.post_category(d)[0]}.html" for d in docs}
    found = {p.name: post_runnable(p.read_text(encoding="utf-8")) for p in posts}
    found |= {p.name: page_runnable(p.read_text(encoding="utf-8")) for p in pages}
    assert {name: what for name, what in found.items() if what} == {}


def test_hostile_text_is_shown_as_text(chain) -> None:  # type: ignore[no-untyped-def]
    """The issue's digest and title: the page shows what the feed showed, and import reads it."""
    path = POSTS[0].parent / "2022-04-21-202204212352230938.md"
    raw = ItemAdapter(article_from_post(path.name, path.read_text(encoding="utf-8"), FETCHED))
    raw["summary"] = "【x】&lt;script&gt;alert(4)&lt;/script&gt; [点我](javascript:alert(5))"
    raw["title"] = "&lt;img src=x onerror=alert(2)&gt; *ST康美 1. 第一"
    doc = ItemAdapter(chain.process(raw.item)).asdict()
    doc["_id"] = doc.pop("id")
    assert doc["summary"] == "【x】<script>alert(4)</script> [点我](javascript:alert(5))"
    post = format_post(doc)
    assert (
        "> &lt;script&gt;alert(4)&lt;/script&gt; &#91;点我&#93;(javascript:alert(5))\n" in post.text
    )
    assert front_matter(post.text)["title"] == "&lt;img src=x onerror=alert(2)&gt; *ST康美 1. 第一"
    again = stored(chain, post.filename, post.text)
    assert again["summary"] == doc["summary"].removeprefix("【x】")  # the digest, as ever
    assert again["title"] == doc["title"]
    assert not post_runnable(post.text)


@pytest.mark.parametrize(
    ("digest", "line"),
    [
        ("# 标题", "&#35; 标题"),
        ("- 列表", "&#45; 列表"),
        ("1. 第一", "1&#46; 第一"),
        ("*ST康美 *ST华仪", "&#42;ST康美 &#42;ST华仪"),
        (
            "a_b_c `代码` |表| $$x$$ ~~删~~ \\[",
            "a&#95;b&#95;c &#96;代码&#96; &#124;表&#124; &#36;&#36;x&#36;&#36; &#126;&#126;删&#126;&#126; &#92;&#91;",
        ),
        ("涨2.5%，报(10.2元)", "涨2.5%，报(10.2元)"),
    ],
)
def test_digest_is_markdown_text(chain, digest: str, line: str) -> None:  # type: ignore[no-untyped-def]
    path = POSTS[0].parent / "2022-04-21-202204212352230938.md"
    doc = stored(chain, path.name, path.read_text(encoding="utf-8"))
    doc["summary"] = f"【标题】{digest}"
    post = format_post(doc)
    assert f"\n> {line}\n" in post.text
    assert parse_post(post.text).digest == digest


def test_category_page_prints_titles_escaped(chain) -> None:  # type: ignore[no-untyped-def]
    doc = stored(chain, SEED.name, SEED.read_text(encoding="utf-8"))
    doc["publisher"] = "<b>媒体</b>"
    post = format_post(doc)
    name, text = category_page(post.category, post.tag)
    assert name == "zhongguoshichangjianguanxinwenwang.html"
    assert "{{ post.title | escape_once }}" in text
    assert yaml.safe_load(text.split("---\n")[1])["title"] == "&lt;b&gt;媒体&lt;/b&gt;新闻"
    assert not page_runnable(text)


# --- file names from stored values (issue 15, item 9) ---------------------------------------


def files_under(folder) -> set:  # type: ignore[no-untyped-def,type-arg]
    """Every file below ``folder``, relative to it."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()}


def test_publisher_slug_cannot_lead_pages_out_of_their_folder(chain, tmp_path) -> None:  # type: ignore[no-untyped-def]
    site = tmp_path / "a" / "b" / "c" / "site"  # deep enough that the old code wrote in tmp_path
    doc = stored(chain, SEED.name, SEED.read_text(encoding="utf-8"))
    doc["publisher_slug"] = "../../../../PWNED"
    report = export_posts([doc], site / "_posts", pages_dir=site / "category")
    assert report.written == [SEED.name]
    assert not report.skipped
    pages = files_under(site / "category")
    assert len(pages) == 1
    assert files_under(tmp_path) == {
        *(f"a/b/c/site/_posts/{name}" for name in (SEED.name, MANIFEST)),
        *(f"a/b/c/site/category/{name}" for name in pages),
    }
    category = front_matter((site / "_posts" / SEED.name).read_text(encoding="utf-8"))["categories"]
    assert pages == {f"{category}.html"}
    assert f"/category/{category}.html)" in (site / "_posts" / SEED.name).read_text(
        encoding="utf-8"
    )


@pytest.mark.parametrize(
    ("source", "feed", "native_id"),
    [
        ("eastmoney", "rolling", "2022/05/202205202386046762"),
        ("eastmoney", "media", "../../202205202386046762"),
        ("eastmoney", "media", "x" * 400),
        ("cmrnn", "media", "content/2022-05/20/1.html"),
        ("cmrnn", "media", "/etc/passwd"),
        ("cmrnn", "media", "a\x00b"),
    ],
)
def test_any_native_id_is_exported_in_the_folder(chain, tmp_path, source, feed, native_id) -> None:  # type: ignore[no-untyped-def]
    seed = stored(chain, SEED.name, SEED.read_text(encoding="utf-8"))
    doc = seed | {
        "_id": f"{source}:{native_id}",
        "source": source,
        "feed": feed,
        "native_id": native_id,
    }
    out = tmp_path / "a" / "b" / "_posts"
    report = export_posts([seed, doc], out)
    assert not report.skipped
    assert len(report.written) == 2
    assert files_under(tmp_path) == {f"a/b/_posts/{name}" for name in (*report.written, MANIFEST)}
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest == {seed["_id"]: SEED.name, doc["_id"]: report.written[1]}
    assert all(len(name.encode()) <= 255 for name in report.written)


NAMES = [
    "..", ".", "../x", "../../../../PWNED", "/etc/passwd", "C:\\Windows\\win.ini", "\\\\host\\share",
    "a\x00b", "x" * 300, "中" * 100, "CON", "con", "Con.html", "NUL.md", "COM1", "lpt9.txt", "COM¹",
    'a<b>c:d"e|f?g*h', "trailing. ", " ", "", "\u202egnp.exe", "line\nbreak", "..a..", "-rf",
    "_config.yml",
]  # fmt: skip
SAFE = re.compile(r"[^\W_][\w.-]*")  # Jekyll hides names that start with ``_`` or ``.``


def test_safe_name_keeps_names_that_are_safe() -> None:
    for name in ["NW202205202386046762", "202204212352230938", "zhongguoshichangjianguanxinwenwang",
                 "emnews", "cmrnn-1", "url-3f2a9c", "中国证券报"]:  # fmt: skip
        assert jekyll.safe_name(name) == name


def test_safe_names_stay_in_their_folder_on_any_system(tmp_path) -> None:
    names = [jekyll.safe_name(name) for name in NAMES]
    assert len(set(names)) == len(NAMES)  # a changed name carries a hash of the value
    for name in names:
        assert SAFE.fullmatch(name), name
        assert not name.endswith((".", "-")), name
        assert len(name.encode()) <= jekyll.NAME_MAX_BYTES
        assert name.split(".")[0].upper() not in {"CON", "NUL", "COM1", "LPT9", "COM¹"}
        path = jekyll.inside(tmp_path, f"2022-05-20-{name}.md")
        path.write_text("x", encoding="utf-8")
        assert path.parent == tmp_path.resolve()


@pytest.mark.parametrize("name", ["../x.md", "/etc/passwd", "a/b.md", "..", "", "a\x00b"])
def test_inside_refuses_names_that_leave_the_folder(tmp_path, name: str) -> None:
    with pytest.raises(jekyll.UnsafePath):
        jekyll.inside(tmp_path, name)


def test_unwritable_post_is_skipped_and_the_manifest_kept(chain, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    seed = stored(chain, SEED.name, SEED.read_text(encoding="utf-8"))
    blocked = {**seed, "_id": "eastmoney:1", "native_id": "202205202300000001"}
    linked = {**seed, "_id": "eastmoney:2", "native_id": "202205202300000002"}
    out, outside = tmp_path / "_posts", tmp_path / "outside.md"
    out.mkdir()
    outside.write_text("not a post", encoding="utf-8")
    (out / format_post(blocked).filename).mkdir()  # a folder where the post should go
    (out / format_post(linked).filename).symlink_to(outside)  # a link leading out
    report = export_posts([blocked, linked, seed], out)
    assert report.skipped == {"unwritable": 1, "unsafe_path": 1}
    assert report.written == [SEED.name]
    assert outside.read_text(encoding="utf-8") == "not a post"
    assert json.loads((out / MANIFEST).read_text(encoding="utf-8")) == {seed["_id"]: SEED.name}
    assert "Not exporting eastmoney:1: unwritable" in caplog.text


def test_manifest_cannot_make_the_export_remove_files_elsewhere(chain, tmp_path) -> None:  # type: ignore[no-untyped-def]
    seed = stored(chain, SEED.name, SEED.read_text(encoding="utf-8"))
    out, outside = tmp_path / "_posts", tmp_path / "keep.md"
    out.mkdir()
    outside.write_text("keep", encoding="utf-8")
    (out / MANIFEST).write_text(json.dumps({seed["_id"]: "../keep.md"}), encoding="utf-8")
    report = export_posts([seed], out)
    assert (report.written, report.removed) == ([SEED.name], [])
    assert outside.read_text(encoding="utf-8") == "keep"


def test_posts_of_the_previous_export_still_import(chain) -> None:  # type: ignore[no-untyped-def]
    """Before text was escaped, Liquid markup was kept in raw blocks: such posts read the same."""
    path = POSTS[0].parent / "2022-04-21-202204212352230938.md"
    head, body = path.read_text(encoding="utf-8").split("\n---\n", 1)
    old = f"{head}\n---\n> {{% raw %}}摘要 {{{{ site.x }}}}{{% endraw %}}\n{body.split(chr(10), 1)[1]}"
    assert parse_post(old).digest == "摘要 {{ site.x }}"
    assert stored(chain, path.name, old)["summary"] == "摘要 {{ site.x }}"
