"""``scrapy addsite URL [--name NAME] [--publisher NAME] [--write] [--sample N]``: propose a
checked ``[[source]]`` entry for a news site from its home or section page.

A small spider fetches, one page at a time and within :data:`MAX_FETCHES`: the page, the site's
robots.txt (obeyed for every other fetch), the feeds the page declares (else
:data:`~crawler.sources.discovery.FEED_PATHS`), the sitemaps robots.txt names (else
:data:`~crawler.sources.discovery.SITEMAP_PATHS`; an index's news sitemap first), the page's
sections, then a sample of articles, which the generic extractor and the normalising stages read
as in a crawl. Everything it learns is decided by the pure functions of
:mod:`crawler.sources.discovery`. It prints what it tried, what it found, a table per sample
article with what is missing, and the entry; ``--write`` appends the entry to the sources file
(``NEWS_SOURCES_FILE``) once the file with it passes the checks of :mod:`crawler.sources.config`.
Exit status 1 when no article was found, the entry does not pass, or the file cannot be written.
"""

from __future__ import annotations

import logging
import sys
import tomllib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from protego import Protego
from scrapy import Request, Spider, signals
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands.extract import EXTRACT_PIPELINES, page_record
from crawler.extract import decode_body
from crawler.sources import discovery
from crawler.sources.config import (
    SourcesError,
    load_sources,
    parse_source,
    parse_sources,
    sources_file,
    url_problem,
)
from crawler.sources.feeds import detect_kind, read_xml_listing
from crawler.sources.site import read_article_page

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace
    from collections.abc import AsyncIterator
    from pathlib import Path

    from crawler.items import Article
    from crawler.sources.config import Source
    from crawler.sources.discovery import Findings, Link, Page

logger = logging.getLogger(__name__)

#: Pages fetched at most, robots.txt and the sample included.
MAX_FETCHES = 30
#: Section pages fetched at most besides the page given.
MAX_SECTIONS = 4
#: Child sitemaps of an index read at most.
MAX_CHILD_SITEMAPS = 2
#: Fields of the sample table, in the order printed (``page_record``'s keys).
TABLE_FIELDS: tuple[str, ...] = ("title", "publish_time", "source", "authors", "body_text", "lang")


class AddsiteSpider(Spider):
    """Fetch what discovery asks for, one page at a time; yield the sample articles."""

    name = "addsite"
    custom_settings = {
        # robots.txt is fetched and obeyed here, so that it counts as one of the fetches.
        "ROBOTSTXT_OBEY": False,
        "HTTPERROR_ALLOW_ALL": True,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
    }

    def __init__(
        self,
        url: str,
        sample: int = 5,
        source_name: str | None = None,
        publisher: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.sample = sample
        self.source_name = source_name
        self.publisher = publisher
        self.host = discovery.host_of(url)
        self.findings = discovery.Findings(self.host)
        #: Each URL tried, what for, and what came of it.
        self.tried: list[tuple[str, str, str]] = []
        self.fetched = 0
        self.robots: Protego | None = None
        self.entry: dict[str, Any] | None = None
        self.problem: str | None = None

    async def fetch(self, url: str, purpose: str) -> Page | None:
        """Fetch ``url`` when it is on the host, allowed and within budget; None when not 200."""
        if not discovery.on_host(url, self.host):
            self.tried.append((url, purpose, "not fetched: another host"))
            return None
        if self.fetched >= MAX_FETCHES:
            self.tried.append((url, purpose, f"not fetched: {MAX_FETCHES} fetches used"))
            return None
        agent = str(self.settings.get("USER_AGENT") or "")
        if self.robots is not None and not self.robots.can_fetch(url, agent):
            self.tried.append((url, purpose, "not fetched: robots.txt disallows it"))
            return None
        self.fetched += 1
        request = Request(url, dont_filter=True)
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:  # any download failure is a finding, not a crash
            self.tried.append((url, purpose, f"failed: {exc or type(exc).__name__}"))
            return None
        kind = detect_kind(response.body) if response.status == 200 else ""
        if kind == "html" and b"<" not in response.body[:1024]:
            kind = "text"  # robots.txt, or any page without markup
        self.tried.append((url, purpose, f"{response.status} {kind}".strip()))
        if response.status != 200 or not discovery.on_host(response.url, self.host):
            return None
        text = decode_body(response.body, response.headers)[0] if kind == "html" else ""
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        return discovery.Page(response.url, response.status, response.body, text, content_type)

    async def start(self) -> AsyncIterator[Any]:
        start = await self.fetch(self.url, "page given")
        if start is None or not start.text:
            self.problem = f"{self.url} could not be read as an HTML page"
            return
        robots_url = discovery.origin(start.url) + "/robots.txt"
        robots = await self.fetch(robots_url, "robots.txt")
        robots_body = robots.body if robots else b""
        self.robots = Protego.parse(robots_body.decode("utf-8", "replace"))
        known, listed_others = await self.discover_xml(start, robots_body, robots_url)
        listings = await self.discover_html(start)
        findings = self.findings
        pages_seen = len(listings)
        articles, others = discovery.classify_links(listings, known, pages_seen)
        findings.articles = [u for u in articles if discovery.on_host(u, self.host)]
        findings.others = list(dict.fromkeys([*others, *listed_others]))
        if not findings.articles:
            self.problem = "no article link found"
            return
        chosen = set(findings.articles)
        findings.listings = [url for url, links in listings.items()
                             if any(link.url in chosen for link in links)]  # fmt: skip
        findings.pattern, findings.conflicts = discovery.propose_pattern(
            findings.articles, findings.others, self.host
        )
        findings.next_page = discovery.next_page_selector(self.pages.values())
        self.entry = discovery.build_entry(
            self.source_name or discovery.source_name(self.host),
            self.publisher or discovery.site_publisher(start),
            findings,
        )
        try:
            source = parse_source(self.entry, "the proposed entry")
        except SourcesError as exc:
            self.problem = str(exc)
            return
        for url in findings.articles[: self.sample]:
            page = await self.fetch(url, "sample article")
            if page is not None:
                yield self.sample_article(page, url, source)

    async def discover_xml(
        self, start: Page, robots_body: bytes, robots_url: str
    ) -> tuple[list[str], list[str]]:
        """Read the feeds and sitemaps; return the article URLs they list and the other URLs.

        A feed's items are articles; a sitemap's URLs are when they hold an id or a date (a
        sitemap also lists sections and pages such as 关于我们).
        """
        articles: list[str] = []
        others: list[str] = []
        feeds = discovery.feed_links(start)
        candidates = feeds or dict.fromkeys(
            (discovery.origin(start.url) + p for p in discovery.FEED_PATHS), "auto"
        )
        for url, kind in candidates.items():
            page = await self.fetch(url, "feed" if feeds else "feed (common path)")
            listing = read_xml_listing(page.body, page.url) if page else None
            if listing and listing.kind in ("rss", "atom") and listing.entries:
                self.findings.feeds[url] = kind if url in feeds else listing.kind
                articles += [e.url for e in listing.entries]
        named = discovery.robots_sitemaps(robots_body, robots_url)
        queue = [(u, "robots.txt") for u in named] or [
            (discovery.origin(start.url) + p, "common path") for p in discovery.SITEMAP_PATHS
        ]
        for url, how in queue:
            page = await self.fetch(url, f"sitemap ({how})")
            listing = read_xml_listing(page.body, page.url) if page else None
            if not listing or listing.kind != "sitemap":
                continue
            children = sorted(listing.sitemaps, key=lambda u: "news" not in u.lower())
            entries = list(listing.entries)
            for child in children[:MAX_CHILD_SITEMAPS]:
                sub = await self.fetch(child, "child sitemap")
                if sub:
                    entries += read_xml_listing(sub.body, sub.url).entries
                    if discovery.is_news_sitemap(sub.body):
                        self.tried[-1] = (*self.tried[-1][:2], self.tried[-1][2] + " (news)")
            listed = [e.url for e in entries if discovery.on_host(e.url, self.host)]
            found = [u for u in listed if discovery.has_id(u)]
            if found:
                self.findings.sitemaps[url] = how
            articles += found
            others += [u for u in listed if u not in found]
        return articles, others

    async def discover_html(self, start: Page) -> dict[str, list[Link]]:
        """Read the page given and up to :data:`MAX_SECTIONS` of its sections; return the links
        of each, by page URL."""
        self.pages: dict[str, Page] = {start.url: start}
        listings = {start.url: discovery.page_links(start)}
        first, _ = discovery.classify_links(listings, [], 1)
        for url in discovery.section_links(listings[start.url], self.host, set(first)):
            if len(listings) > MAX_SECTIONS:
                break
            page = await self.fetch(url, "section")
            if page is not None and page.text and page.url not in listings:
                self.pages[page.url] = page
                listings[page.url] = discovery.page_links(page)
        return listings

    def sample_article(self, page: Page, url: str, source: Source) -> Article:
        """Return a sample page read as the proposed source would read it in a crawl."""
        headers = {"Content-Type": page.content_type} if page.content_type else None
        article = read_article_page(page.body, headers, url, source)
        article.source = source.name
        article.fetched_at = datetime.now(UTC)
        article.feed = "addsite"
        return article


def sample_table(record: dict[str, Any]) -> list[str]:
    """Return the lines printed for one sample article, the missing fields last."""
    lines = [f"  {record['url']}"]
    missing = []
    for name in TABLE_FIELDS:
        value = record.get(name)
        if name == "body_text":
            shown = f"{len(value)} characters" if value else ""
            name = "body"
        elif isinstance(value, list):
            shown = "、".join(value)
        else:
            shown = str(value) if value else ""
        if not shown:
            missing.append(name)
        lines.append(f"    {name:<13}{shown or '—'}")
    lines.append(f"    missing      {', '.join(missing) if missing else 'nothing'}")
    return lines


def report(spider: AddsiteSpider, records: list[dict[str, Any]]) -> list[str]:
    """Return the report's lines: what was tried, found and proposed, the sample table."""
    findings: Findings = spider.findings
    lines = [f"addsite: {spider.fetched} of at most {MAX_FETCHES} fetches; tried:"]
    lines += [f"  {outcome:<24} {purpose:<22} {url}" for url, purpose, outcome in spider.tried]
    lines.append("found:")
    lines.append(f"  feeds          {', '.join(findings.feeds) or 'none'}")
    sitemaps = [f"{u} (from {how})" for u, how in findings.sitemaps.items()]
    lines.append(f"  sitemaps       {', '.join(sitemaps) or 'none'}")
    lines.append(f"  HTML listings  {', '.join(findings.listings) or 'none'}")
    lines.append(f"  article links  {len(findings.articles)}; other links {len(findings.others)}")
    if findings.pattern:
        lines.append(f"  article_pattern {findings.pattern}")
    for url in findings.conflicts:
        lines.append(f"  warning: the pattern also matches {url}, which is not an article")
    lines.append(f"  next_page      {findings.next_page or 'none'}")
    if records:
        lines.append(f"sample ({len(records)} articles, read as a crawl would):")
        for record in records:
            lines += sample_table(record)
    return lines


def append_entry(path: Path, text: str) -> None:
    """Append an entry to the sources file once the file with it passes the load checks."""
    existing = path.read_text("utf-8") if path.exists() else ""
    combined = existing.rstrip("\n") + ("\n\n" if existing.strip() else "") + text
    try:
        if existing.strip():
            load_sources(path)  # the file as it is must load: an error is the file's, not ours
        parse_sources(tomllib.loads(combined.removeprefix("\ufeff")), str(path))
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{path}: not valid TOML with the entry: {exc}") from exc
    with path.open("a", encoding="utf-8") as out:
        out.write(combined[len(existing) :])


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self) -> str:
        return "URL [--name NAME] [--publisher NAME] [--write] [--sample N]"

    def short_desc(self) -> str:
        return "Discover a news site's feeds, sitemaps and article links; propose its source entry"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--name", help="source name (default: from the host)")
        parser.add_argument("--publisher", help="publisher (default: the site's name)")
        parser.add_argument(
            "--sample", type=int, default=5, metavar="N", help="articles read (default 5)"
        )
        parser.add_argument(
            "--write", action="store_true", help="append the entry to NEWS_SOURCES_FILE"
        )

    def run(self, args: list[str], opts: Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one URL: the site's home page or a section page")
        problem = url_problem(args[0])
        if problem:
            raise UsageError(problem)
        if opts.sample < 0:
            raise UsageError("--sample must be 0 or more")
        assert self.settings is not None
        assert self.crawler_process is not None
        self.settings.set("ITEM_PIPELINES", EXTRACT_PIPELINES, priority="cmdline")
        records: list[dict[str, Any]] = []

        def collect(item: Article) -> None:
            records.append(page_record(item, {"url": item.url or ""}))

        crawler = self.crawler_process.create_crawler(AddsiteSpider)
        crawler.signals.connect(collect, signal=signals.item_scraped)
        self.crawler_process.crawl(
            crawler, url=args[0], sample=opts.sample, source_name=opts.name,
            publisher=opts.publisher,
        )  # fmt: skip
        self.crawler_process.start()
        spider = crawler.spider
        assert isinstance(spider, AddsiteSpider)
        sys.stdout.write("\n".join(report(spider, records)) + "\n")
        if spider.entry is None or spider.problem:
            sys.stderr.write(f"addsite: {spider.problem or 'no entry'}\n")
            self.exitcode = 1
            return
        text = discovery.render_entry(spider.entry)
        sys.stdout.write("\n" + text)
        if opts.write:
            path = sources_file(self.settings)
            try:
                append_entry(path, text)
            except (SourcesError, OSError) as exc:
                sys.stderr.write(f"addsite: not written: {exc}\n")
                self.exitcode = 1
                return
            sys.stdout.write(f"\nappended to {path}\n")
