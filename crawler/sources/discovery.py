"""What ``scrapy addsite`` learns from a site's pages: feeds, sitemaps, listings, article links,
the ``article_pattern`` and ``next_page`` to propose, and the ``[[source]]`` entry.

Everything here is pure: it reads pages that the command fetched (:class:`Page`) and returns what
to fetch next or what to propose. How articles are told from navigation:

- a link listed by a feed or a sitemap of the site is an article;
- the other links are grouped by *shape* (the path with every run of digits made ``9``); a shape
  whose links carry headline-long text (:data:`HEADLINE_CHARS`), have a number or a date in their
  path, and do not stand on nearly every page fetched (navigation does) is a shape of articles;
- the pattern proposed is built from the article URLs only, token by token, as tight as they
  allow, and must match none of the other links seen (:func:`propose_pattern`).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from statistics import median
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from parsel import Selector
from scrapy.utils.sitemap import sitemap_urls_from_robots
from w3lib.html import get_base_url

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

#: Paths tried for a feed when the page links none.
FEED_PATHS: tuple[str, ...] = ("/rss.xml", "/feed", "/atom.xml")
#: Paths tried for a sitemap when robots.txt names none.
SITEMAP_PATHS: tuple[str, ...] = ("/sitemap.xml",)
#: ``<link rel="alternate">`` types that are feeds, and the kind each gives.
FEED_TYPES: dict[str, str] = {"application/rss+xml": "rss", "application/atom+xml": "atom"}
#: Link texts of a next-page link (compared without spaces, lower case).
NEXT_TEXTS: frozenset[str] = frozenset({"下一页", "下页", "下一頁", "next", "next»", "›", "»", ">"})
#: Characters a link text needs to read as a headline (navigation says 首页, 财经, 更多).
HEADLINE_CHARS = 8
#: Share of the HTML pages fetched a link may stand on and still be an article (navigation and
#: footers stand on all of them); counted only when at least :data:`MIN_PAGES_FOR_REPETITION`.
NAV_SHARE = 0.8
MIN_PAGES_FOR_REPETITION = 3
#: A run of digits at least this long, or a date, marks an article's URL.
ID_DIGITS = 4
#: Distinct words a URL token may take and still be written out as alternatives.
MAX_ALTERNATIVES = 4
_DATE_RE = re.compile(r"(?:19|20)\d{2}[-_/]?[01]\d(?:[-_/]?[0-3]\d)?")
_TOKEN_RE = re.compile(r"\d+|[A-Za-z]+|[^A-Za-z\d]")
_SPACE_RE = re.compile(r"\s+")
_NAME_RE = re.compile(r"[^a-z0-9]+")
_HOST_PREFIXES: tuple[str, ...] = ("www.", "news.", "m.")
_TITLE_SEPARATORS_RE = re.compile(r"\s*[-_|—–]+\s*")


@dataclass(frozen=True, slots=True)
class Page:
    """A page the command fetched: final URL, status, body bytes, for HTML its text, and the
    Content-Type header."""

    url: str
    status: int
    body: bytes
    text: str = ""
    content_type: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    """A link on an HTML page: absolute URL and its text, spaces collapsed."""

    url: str
    text: str


@dataclass(slots=True)
class Findings:
    """What discovery found, for the entry and for the report."""

    host: str
    feeds: dict[str, str] = field(default_factory=dict)  # url -> rss/atom
    sitemaps: dict[str, str] = field(default_factory=dict)  # url -> how it was found
    listings: list[str] = field(default_factory=list)  # HTML listings with articles
    articles: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)  # links that are not articles
    pattern: str | None = None
    conflicts: list[str] = field(default_factory=list)  # non-articles the pattern matches
    next_page: str | None = None


# --- reading pages ------------------------------------------------------------------------------


def host_of(url: str) -> str:
    """Return the host (with port) of ``url``, lower case."""
    return urlsplit(url).netloc.lower()


def on_host(url: str, host: str) -> bool:
    """Tell whether ``url`` is an http(s) URL on ``host``."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host


def origin(url: str) -> str:
    """Return ``scheme://host`` of ``url``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _base(text: str, url: str) -> str:
    """Return the base URL of an HTML page (its ``<base href>``, else its URL)."""
    try:
        return get_base_url(text, url)
    except ValueError:
        return url


def _absolute(base: str, href: str | None) -> str | None:
    """Return ``href`` made absolute without its fragment, or None when it is not a web link."""
    if not href or href.strip().lower().startswith(("javascript:", "mailto:", "#")):
        return None
    try:
        url = urljoin(base, href.strip())
    except ValueError:
        return None
    return url.split("#", 1)[0] if url.startswith(("http://", "https://")) else None


def page_links(page: Page) -> list[Link]:
    """Return the page's links (first occurrence of each URL, with its longest text)."""
    selector = Selector(text=page.text or "<html></html>")
    base = _base(page.text, page.url)
    texts: dict[str, str] = {}
    for node in selector.css("a[href]"):
        url = _absolute(base, node.attrib.get("href"))
        if url is None:
            continue
        text = _SPACE_RE.sub(" ", " ".join(node.css("::text").getall())).strip()
        text = text or (node.attrib.get("title") or "").strip()
        if len(text) > len(texts.get(url, "")) or url not in texts:
            texts[url] = text
    return [Link(url, text) for url, text in texts.items()]


def feed_links(page: Page) -> dict[str, str]:
    """Return the feeds a page declares (``<link rel="alternate">``) or links (``<a>`` to a URL
    holding rss/atom/feed and ending in .xml or such a word), with their kind (``auto`` when only
    the URL tells)."""
    selector = Selector(text=page.text or "<html></html>")
    base = _base(page.text, page.url)
    found: dict[str, str] = {}
    for node in selector.xpath("//link[@href]"):
        rel = (node.attrib.get("rel") or "").lower().split()
        kind = FEED_TYPES.get((node.attrib.get("type") or "").lower().split(";")[0].strip())
        url = _absolute(base, node.attrib.get("href"))
        if "alternate" in rel and kind and url:
            found.setdefault(url, kind)
    for link in page_links(page):
        path = urlsplit(link.url).path.lower()
        if re.search(r"(rss|atom|feed)[^/]*(\.xml)?$", path) and not path.endswith(".html"):
            found.setdefault(link.url, "auto")
    return found


def robots_sitemaps(body: bytes, url: str) -> list[str]:
    """Return the sitemaps a robots.txt names (``Sitemap:`` lines), in order, once each."""
    return list(dict.fromkeys(sitemap_urls_from_robots(body, url)))


def is_news_sitemap(body: bytes) -> bool:
    """Tell whether a sitemap is a news sitemap (Google's ``news:`` extension)."""
    return b"sitemap-news" in body[:4096] or b"<news:news" in body


def next_page_selector(pages: Iterable[Page]) -> str | None:
    """Return a selector of the next-page link found on the listings, checked on each page that
    has one to pick exactly that link: ``a[rel=next]``, else the link's class, else its text."""
    for page in pages:
        selector = Selector(text=page.text or "<html></html>")
        for node in selector.css("a[href]"):
            text = _SPACE_RE.sub("", "".join(node.css("::text").getall())).lower()
            rel = (node.attrib.get("rel") or "").lower().split()
            if "next" not in rel and text not in NEXT_TEXTS:
                continue
            candidates = ["a[rel~='next']"] if "next" in rel else []
            candidates += [f"a.{c}" for c in (node.attrib.get("class") or "").split()
                           if re.fullmatch(r"[A-Za-z_][\w-]*", c)]  # fmt: skip
            if text:
                literal = json.dumps(text, ensure_ascii=False)
                candidates.append(f"xpath://a[normalize-space(.)={literal}]")
            href = node.attrib.get("href")
            for query in candidates:
                found = _select(selector, query)
                if len(found) == 1 and found[0].attrib.get("href") == href:
                    return query
    return None


def _select(selector: Selector, query: str) -> list[Selector]:
    """Run a CSS query, or XPath after ``xpath:``."""
    if query.startswith("xpath:"):
        return list(selector.xpath(query.removeprefix("xpath:")))
    return list(selector.css(query))


def section_links(links: Iterable[Link], host: str, articles: set[str]) -> list[str]:
    """Return the links that may be listings (sections): on the host, not articles, not the home
    page, with a short label, in the order given."""
    result = []
    for link in links:
        path = urlsplit(link.url).path
        if (
            on_host(link.url, host)
            and link.url not in articles
            and path not in ("", "/")
            and 0 < len(link.text) < HEADLINE_CHARS
            and not link.text.isdigit()  # a page number
            and _SPACE_RE.sub("", link.text).lower() not in NEXT_TEXTS
            and not re.search(r"\.(?:xml|jpg|png|gif|pdf|zip|css|js)$", path, re.I)
        ):
            result.append(link.url)
    return result


# --- telling articles from navigation -----------------------------------------------------------


def shape(url: str) -> str:
    """Return the shape of a URL: its path and query with every run of digits made ``9``."""
    parts = urlsplit(url)
    return re.sub(r"\d+", "9", parts.path + ("?" + parts.query if parts.query else ""))


def has_id(url: str) -> bool:
    """Tell whether the URL's path holds an id-long run of digits or a date."""
    parts = urlsplit(url)
    target = parts.path + "?" + parts.query
    return bool(_DATE_RE.search(target) or re.search(rf"\d{{{ID_DIGITS},}}", target))


def classify_links(
    listings: Mapping[str, Sequence[Link]], known: Iterable[str], pages_seen: int
) -> tuple[list[str], list[str]]:
    """Split the links of HTML listings (by listing URL) into articles and others.

    ``known``: article URLs from feeds and sitemaps (their shapes are article shapes);
    ``pages_seen``: how many HTML pages were fetched (for the navigation share).
    """
    known = list(known)
    known_shapes = {shape(u) for u in known}
    texts: dict[str, str] = {}
    presence: Counter[str] = Counter()
    for links in listings.values():
        for link in links:
            presence[link.url] += 1
            if len(link.text) >= len(texts.get(link.url, "")):
                texts[link.url] = link.text
    groups: dict[str, list[str]] = defaultdict(list)
    for url in texts:
        groups[shape(url)].append(url)
    articles: list[str] = list(dict.fromkeys(known))
    for key, urls in groups.items():
        if key in known_shapes or _reads_as_articles(urls, texts, presence, pages_seen):
            articles.extend(u for u in urls if u not in articles)
    chosen = set(articles)
    others = [u for u in texts if u not in chosen]
    return articles, others


def _reads_as_articles(
    urls: Sequence[str], texts: Mapping[str, str], presence: Counter[str], pages_seen: int
) -> bool:
    """Tell whether a shape's links are articles: headline text, an id or date, not everywhere."""
    if not all(has_id(u) for u in urls):
        return False
    if median(len(texts[u]) for u in urls) < HEADLINE_CHARS:
        return False
    if pages_seen >= MIN_PAGES_FOR_REPETITION:
        everywhere = sum(1 for u in urls if presence[u] >= NAV_SHARE * pages_seen)
        if everywhere * 2 > len(urls):
            return False
    return True


# --- the pattern --------------------------------------------------------------------------------


def _tokens(url: str) -> list[str]:
    """Split a URL's path and query into digit runs, letter runs and single other characters."""
    parts = urlsplit(url)
    return _TOKEN_RE.findall(parts.path + ("?" + parts.query if parts.query else ""))


def _kind(token: str) -> str:
    """Return a token's kind: ``d`` digits, ``a`` letters, else the character itself."""
    return "d" if token.isdigit() else "a" if token.isalpha() else token


def date_part(digits: str, after_year: bool) -> bool:
    """Tell whether a run of digits reads as a date or part of one: a year (``2026``), a year and
    month (``202612``) or a full date (``20261202``); after a year also a month and day
    (``1202``) or either (``5``, ``31``). Anything else is an id."""

    def year(text: str) -> bool:
        return 1990 <= int(text) <= 2099

    def month_day(text: str) -> bool:
        return 1 <= int(text[:2]) <= 12 and 1 <= int(text[2:]) <= 31

    size = len(digits)
    if size <= 2:
        return after_year and 1 <= int(digits) <= 31
    if size == 4:
        return year(digits) or (after_year and month_day(digits))
    if size == 6:
        return year(digits[:4]) and 1 <= int(digits[4:]) <= 12
    if size == 8:
        return year(digits[:4]) and month_day(digits[4:])
    return False


def _merge(values: Sequence[str], after_year: bool) -> str:
    """Return the tightest regex of one token position across the article URLs (``after_year``:
    the digits before these in the URL read as a year, or a year and month)."""
    distinct = list(dict.fromkeys(values))
    kind = _kind(distinct[0])
    if kind == "d":
        low, high = min(map(len, distinct)), max(map(len, distinct))
        if all(date_part(v, after_year) for v in distinct):  # a date's parts keep their widths
            return rf"\d{{{low}}}" if low == high else rf"\d{{{low},{high}}}"
        return rf"\d{{{low},}}" if low > 1 else r"\d+"  # an id: it grows, so no upper bound
    if kind == "a":
        if len(distinct) <= MAX_ALTERNATIVES and len(distinct) * 2 <= len(values) + 1:
            return "(?:" + "|".join(sorted(distinct)) + ")" if len(distinct) > 1 else distinct[0]
        return "[a-z]+" if all(v.islower() for v in distinct) else "[A-Za-z]+"
    return re.escape(distinct[0])


def _group_regex(urls: Sequence[str]) -> str:
    """Return the regex of URLs whose token kinds line up: position by position, tightest."""
    parts = []
    after_year = False
    for column in zip(*(_tokens(u) for u in urls), strict=True):
        parts.append(_merge(column, after_year))
        if column[0].isdigit():  # a year, a month after it…, not a full date: more may follow
            after_year = all(len(v) < 8 and date_part(v, after_year) for v in column)
    return "".join(parts)


def propose_pattern(
    articles: Sequence[str], others: Iterable[str], host: str
) -> tuple[str, list[str]]:
    """Return the tightest ``article_pattern`` matching every article URL, and the other links
    it matches all the same (empty when it tells them apart).

    Article URLs are grouped by the sequence of their tokens' kinds; each group becomes one
    alternative, token by token: a fixed word stays, a few words become alternatives, digits
    become ``\\d{n}`` (a date's parts: :func:`date_part`) or ``\\d{n,}`` (an id, which grows).
    """
    groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for url in articles:
        groups[tuple(_kind(t) for t in _tokens(url))].append(url)
    alternatives = sorted({_group_regex(urls) for urls in groups.values()})
    body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
    pattern = rf"^https?://{re.escape(host)}{body}$"
    compiled = re.compile(pattern)
    conflicts = [u for u in others if compiled.search(u)]
    return pattern, conflicts


# --- the entry ----------------------------------------------------------------------------------


def source_name(host: str) -> str:
    """Return a source name from a host: ``www.cs.com.cn`` → ``cs``; digits first get ``s``."""
    name = host.split(":")[0].lower()
    for prefix in _HOST_PREFIXES:
        name = name.removeprefix(prefix)
    labels = name.split(".")
    if len(labels) > 2 and not name.replace(".", "").isdigit():
        labels = labels[:-2] if labels[-2] in ("com", "net", "org", "gov", "edu") else labels[:-1]
    elif len(labels) == 2:
        labels = labels[:1]
    slug = _NAME_RE.sub("_", "_".join(labels)).strip("_") or "site"
    return slug if slug[0].isalpha() else f"s{slug}"


def site_publisher(page: Page) -> str:
    """Return the site's name: ``og:site_name``, else the last part of ``<title>``, else host."""
    selector = Selector(text=page.text or "<html></html>")
    named = selector.xpath("//meta[@property='og:site_name']/@content").get("").strip()
    if named:
        return named
    title = _SPACE_RE.sub(" ", selector.xpath("string(//title)").get("")).strip()
    parts = [p for p in _TITLE_SEPARATORS_RE.split(title) if p]
    return parts[-1] if parts else host_of(page.url)


def build_entry(
    name: str, publisher: str, findings: Findings, *, max_pages: int = 3
) -> dict[str, Any]:
    """Return the ``[[source]]`` entry: feeds and sitemaps when the site has them, else its HTML
    listings with paging; the pattern always (it keeps a sitemap's section pages out)."""
    start_urls: list[Any] = [{"url": u, "kind": k} if k != "auto" else u
                             for u, k in findings.feeds.items()]  # fmt: skip
    start_urls += [{"url": u, "kind": "sitemap"} for u in findings.sitemaps]
    entry: dict[str, Any] = {"name": name, "publisher": publisher}
    if start_urls:
        entry["start_urls"] = start_urls
        if any(how == "robots.txt" for how in findings.sitemaps.values()):
            entry["sitemaps_from_robots"] = True
    else:
        entry["start_urls"] = list(findings.listings)
    if findings.pattern:
        entry["article_pattern"] = findings.pattern
    if not findings.feeds and not findings.sitemaps and findings.next_page:
        entry["next_page"] = findings.next_page
        entry["max_pages"] = max_pages
    return entry


def render_entry(entry: Mapping[str, Any]) -> str:
    """Return the entry as a TOML ``[[source]]`` table (strings as TOML reads them back)."""
    lines = ["[[source]]"]
    for key, value in entry.items():
        lines.append(f"{key} = {_toml(value, regex=key == 'article_pattern')}")
    return "\n".join(lines) + "\n"


def _toml(value: Any, *, regex: bool = False) -> str:
    """Return a TOML value: literal strings for regexes, basic ones otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        if regex and "'" not in value and "\n" not in value:
            return f"'{value}'"
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        if len(value) <= 1:
            return "[" + ", ".join(_toml(v) for v in value) + "]"
        return "[\n" + "".join(f"  {_toml(v)},\n" for v in value) + "]"
    raise TypeError(f"no TOML for {type(value).__name__}")
