"""The whole normalisation chain on real material: the seed post and the original's posts."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.items import Article
from crawler.jekyll import BrokenPost, parse_post
from crawler.jekyll import article_from_post as jekyll_article
from crawler.normalize.credits import normalize_publisher
from crawler.sources.config import load_sources
from crawler.sources.site import read_article_page
from crawler.spiders.eastmoney_724 import EastMoneyFlashSpider
from pipelines.chain import PipelineChain
from tests.conftest import FIXTURES, ROOT, make_crawler
from tests.spiders.support import FakeKnown, json_response, run

if TYPE_CHECKING:
    from crawler.normalize.body import BodyRules

FETCHED = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
POSTS = sorted((FIXTURES / "finews-posts" / "posts").glob("*.md"))
SOURCE_TRAILER = re.compile(r"（文章来源：(.*?)）</p>")


def read_post(path):  # type: ignore[no-untyped-def]
    return parse_post(path.read_text(encoding="utf-8"))


def article_from_post(path, publisher: str | None = None) -> Article:  # type: ignore[no-untyped-def]
    """The post as a raw article; the publisher only as given (else the body's credit line)."""
    article = jekyll_article(path.name, path.read_text(encoding="utf-8"), FETCHED)
    article.publisher = publisher
    return article


def test_seed_article(chain) -> None:  # type: ignore[no-untyped-def]
    seed = FIXTURES / "seed" / "2022-05-20-NW202205202386046762.md"
    post = read_post(seed)
    item = chain.process(article_from_post(seed, publisher="中国市场监管新闻网"))
    assert item.id == "eastmoney:202205202386046762"
    assert item.title == "深入贯彻实施规划构建“大计量”工作格局加快推动经济社会高质量发展"
    assert item.published_at == datetime(2022, 5, 20, 1, 51, 48, tzinfo=UTC)
    assert item.published_at.isoformat() == "2022-05-20T01:51:48+00:00"
    assert item.published_tz == "+08:00"
    assert item.published_text == "2022-05-20 09:51:48 +0800"
    assert item.publisher == "中国市场监管新闻网"
    assert item.publisher_slug == "zhongguoshichangjianguanxinwenwang" == post.categories
    assert item.authors == ["广东省人民政府副省长陈良贤"]
    assert item.via == "eastmoney"
    lines = item.body_text.split("\n")
    assert lines[0].startswith("量以载道，行稳致远。计量是科技创新")
    assert lines[-1].startswith("蓝图已绘就，奋进正当时。")
    assert lines[-1].endswith("为全面建设社会主义现代化强国作出广东新的更大贡献。")
    assert "□" not in item.body_text
    assert "文章来源" not in item.body_html
    assert item.body_html.startswith("<p>量以载道")
    assert item.body_html.endswith("更大贡献。</p>")
    assert "<strong>计量事业在党和国家工作全局中具有重要战略地位" in item.body_html


def test_seed_publisher_found_in_body_when_feed_gives_none(chain) -> None:  # type: ignore[no-untyped-def]
    seed = FIXTURES / "seed" / "2022-05-20-NW202205202386046762.md"
    item = chain.process(article_from_post(seed))
    assert item.publisher == "中国市场监管新闻网"


def test_at_least_thirty_real_posts_are_available() -> None:
    assert len(POSTS) >= 160


@pytest.mark.parametrize("path", POSTS, ids=lambda p: p.name)
def test_real_post_through_the_chain(chain, path) -> None:  # type: ignore[no-untyped-def]
    post = read_post(path)
    if not post.title or not post.date.removesuffix("+0800").strip():
        # The original wrote a post for a record with no title and no time: it is refused.
        with pytest.raises(BrokenPost):
            article_from_post(path)
        return
    item = chain.process(article_from_post(path))
    assert item.title == re.sub(r"\s+", " ", post.title).strip()
    assert item.published_at.astimezone(UTC).tzinfo is UTC
    assert item.published_tz == "+08:00"
    assert item.body_text
    for gone in ("　", "<span", "style=", "class=", "display:none", "<!--", "data-code", "<center"):
        assert gone not in item.body_html, gone
    assert "quote.eastmoney.com" not in item.body_html
    trailer = SOURCE_TRAILER.search(post.body)
    if trailer:
        assert item.publisher == normalize_publisher(trailer.group(1))
        assert "文章来源" not in item.body_text
    assert all(line == line.strip() and line for line in item.body_text.split("\n"))


def test_bad_fields_are_dropped_and_counted(chain, crawler) -> None:  # type: ignore[no-untyped-def]
    good = dict(
        url="https://finance.eastmoney.com/a/202205202386046762.html",
        source="eastmoney",
        native_id="202205202386046762",
        fetched_at=FETCHED,
        title="标题",
        published_text="2022-05-20 09:51:48",
        body_html="<p>正文。</p>",
    )
    cases = {
        "missing_url": {"url": None},
        "bad_url": {"url": "javascript:alert(1)"},
        "missing_source": {"source": " "},
        "missing_title": {"title": "&nbsp;\u3000"},
        "missing_published_at": {"published_text": "明天见"},
        "empty_body": {"body_html": '<p><img src="/only.jpg"></p>'},
    }
    for reason, change in cases.items():
        for _ in range(2):
            with pytest.raises(DropItem, match=reason):
                chain.process(Article(**{**good, **change}))
        assert crawler.stats.get_value(f"news/dropped/{reason}") == 2
    assert chain.process(Article(**good)).title == "标题"
    assert crawler.stats.get_value("news/valid") == 1


def test_future_time_is_dropped(chain, crawler) -> None:  # type: ignore[no-untyped-def]
    item = Article(
        url="https://a.cn/1.html",
        source="site",
        fetched_at=FETCHED,
        title="标题",
        published_text="2026-11-28 10:00",
        body_html="<p>正文</p>",
    )
    with pytest.raises(DropItem, match="missing_published_at"):
        chain.process(item)
    assert crawler.stats.get_value("news/dates/out_of_range") == 1


def test_drop_logged_once_per_reason(chain, caplog) -> None:  # type: ignore[no-untyped-def]
    for n in range(3):
        with pytest.raises(DropItem):
            chain.process(Article(url=f"https://a.cn/{n}.html", source="s", title="t"))
    messages = [r.getMessage() for r in caplog.records if "missing_published_at" in r.getMessage()]
    assert len(messages) == 1
    assert "https://a.cn/0.html" in messages[0]


def test_a_failing_stage_costs_one_counted_article(chain, crawler, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    import pipelines.body

    def broken(raw: str | None, base_url: str | None = None, rules: BodyRules | None = None) -> str:
        raise RuntimeError("bug")

    monkeypatch.setattr(pipelines.body, "sanitize_body", broken)
    item = Article(url="https://a.cn/1.html", source="s", title="t", body_html="<p>x</p>")
    with pytest.raises(DropItem, match="stage_error: BodyPipeline"):
        chain.process(item)
    assert crawler.stats.get_value("news/dropped/stage_error") == 1
    assert any(
        "BodyPipeline failed on https://a.cn/1.html" in r.getMessage() for r in caplog.records
    )


def test_summary_is_cleaned(chain) -> None:  # type: ignore[no-untyped-def]
    seed = FIXTURES / "seed" / "2022-05-20-NW202205202386046762.md"
    article = article_from_post(seed)
    article.summary = "　<em>摘要</em>被截断\ud83d "
    assert chain.process(article).summary == "摘要被截断"


# --- what a cut feed or a broken page leaves in text -------------------------------------------


def flash_articles(text: str) -> list[Article]:
    """The 7×24 spider's articles for one ``getFastNewsList`` response."""
    crawler = get_crawler(
        EastMoneyFlashSpider, {"NEWS_DEFAULT_TIMEZONE": "Asia/Shanghai", "NEWS_MONGO_URI": ""}
    )
    crawler.stats.open_spider()
    spider = EastMoneyFlashSpider.from_crawler(crawler)
    crawler.spider = spider
    spider.known = FakeKnown()  # type: ignore[assignment]
    _, articles = run(spider.parse_listing, json_response(text), sort_end="", page_number=1)
    return articles


def has_surrogate(item: Article) -> bool:
    texts = [v for v in vars(item).values() if isinstance(v, str)] + item.authors
    return any("\ud800" <= ch <= "\udfff" for text in texts for ch in text)


def test_a_lone_surrogate_in_a_flash_is_scrubbed_and_the_flash_kept(chain, crawler) -> None:  # type: ignore[no-untyped-def]
    text = (FIXTURES / "eastmoney" / "FIXTURE_em_getFastNewsList_response.json").read_text("utf-8")
    # Real 7×24 feeds cut an emoji in half: the JSON escape of its high surrogate, alone.
    cut = text.replace("快速回调", "快速\\ud83d回调").replace("快照。", "快照\\ud83d。")
    (clean,) = flash_articles(text)
    (broken,) = flash_articles(cut)
    assert has_surrogate(broken)
    broken.fetched_at = clean.fetched_at
    stored = chain.process(broken)
    assert not has_surrogate(stored)
    # Nothing else changes: the flash is stored as if the feed had never been cut.
    assert stored == PipelineChain(make_crawler()).process(clean)
    assert stored.title == "中铝国际6月16日快速回调"
    assert stored.body_text == "以下是中铝国际盘口异动快照。"
    assert crawler.stats.get_value("news/valid") == 1
    assert crawler.stats.get_value("news/dropped/stage_error") is None
    assert crawler.stats.get_value("news/text/scrubbed/body_html") == 1


def test_a_nul_in_a_page_leaves_no_replacement_character_in_the_publisher(chain, crawler) -> None:  # type: ignore[no-untyped-def]
    sources = load_sources(ROOT / "sources.toml")
    url = "http://www.cmrnn.com.cn/content/2022-05/20/content_212345.html"
    page = (FIXTURES / "cmrnn" / "content_2022-05-20_reconstructed.html").read_bytes()
    # The parser reads a NUL as U+FFFD: the page hands over 中国市场\ufffd监管新闻网.
    broken = page.replace("中国市场监管新闻网".encode(), "中国市场\x00监管新闻网".encode())
    articles = []
    for body in (page, broken):
        article = read_article_page(body, None, url, sources["cmrnn"])
        article.source = "cmrnn"
        articles.append(article)
    assert articles[1].publisher == "中国市场\ufffd监管新闻网"
    clean, stored = PipelineChain(make_crawler()).process(articles[0]), chain.process(articles[1])
    assert stored.publisher == "中国市场监管新闻网"
    assert stored == clean
    assert crawler.stats.get_value("news/text/scrubbed/publisher") == 1
