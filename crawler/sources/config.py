"""Configured sources: the sources file (``sources.toml``) read, checked and turned into a registry.

Every error names the file, the entry and the field (``sources.toml: source "cmrnn": field
"article_pattern": invalid regex …``), so an operator can fix a file without reading code.
Loading is pure: :func:`parse_sources` takes the parsed TOML, :func:`load_sources` a path.
"""

from __future__ import annotations

import codecs
import logging
import math
import re
import string
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cssselect import SelectorError
from cssselect.parser import tokenize
from parsel import Selector
from scrapy.utils.conf import closest_scrapy_cfg

from crawler.options import option

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

DEFAULT_SOURCES_FILE = "sources.toml"
#: How a start URL is read; ``auto`` decides from the response (see ``feeds.detect_kind``).
KINDS: tuple[str, ...] = ("auto", "html", "rss", "atom", "sitemap")
#: Fields whose generic extraction a source may override with a selector.
SELECTOR_FIELDS: tuple[str, ...] = ("title", "publish_time", "publisher", "authors", "body")
#: A selector starting with this is XPath; any other is CSS.
XPATH_PREFIX = "xpath:"
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
#: CSS pseudo-classes that depend on a browser (pointer, focus, history, the URL's fragment): a
#: downloaded page never matches them, so a selector using one would silently find nothing.
BROWSER_PSEUDO_CLASSES: frozenset[str] = frozenset(
    {"hover", "focus", "focus-within", "focus-visible", "active", "visited", "target"}
)
_BOM = "\ufeff"
_ENTRY_FIELDS: frozenset[str] = frozenset(
    {
        "name", "publisher", "start_urls", "article_pattern", "article_links", "next_page",
        "selectors", "encoding", "download_delay", "concurrency", "max_pages", "enabled",
        "download_maxsize", "sitemaps_from_robots", "follow",
    }
)  # fmt: skip
_START_URL_FIELDS: frozenset[str] = frozenset({"url", "kind"})


class SourcesError(ValueError):
    """A sources file that cannot be used; the message names file, entry and field."""


@dataclass(frozen=True, slots=True)
class StartUrl:
    """One place a crawl begins: a URL (template) and how to read it."""

    url: str
    kind: str = "auto"

    @property
    def dated(self) -> bool:
        """Tell whether the URL holds a ``{date:…}`` placeholder (an issue of a daily paper)."""
        return "{date" in self.url

    def expand(self, day: date) -> str:
        """Return the URL with its ``{date:<strftime>}`` placeholders filled with ``day``."""
        return self.url.format(date=day)


@dataclass(frozen=True, slots=True)
class Source:
    """One configured news site."""

    name: str
    publisher: str
    start_urls: tuple[StartUrl, ...]
    article_pattern: re.Pattern[str] | None = None
    article_links: str | None = None
    next_page: str | None = None
    selectors: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    download_delay: float = 1.0
    concurrency: int = 2
    max_pages: int = 3
    enabled: bool = True
    #: Bytes a page of the source may have (Scrapy's ``download_maxsize``); None: the project's
    #: ``DOWNLOAD_MAXSIZE``.
    download_maxsize: int | None = None
    #: Also walk the sitemaps that the robots.txt of each start URL's site names (``Sitemap:``).
    sitemaps_from_robots: bool = False
    #: Its start URLs are polled by ``scrapy crawl site -a follow=…`` (a list-shaped source).
    follow: bool = False

    def robots_urls(self, day: date) -> tuple[str, ...]:
        """Return the robots.txt URL of each site the start URLs (filled for ``day``) are on."""
        origins = dict.fromkeys(urlsplit(start.expand(day))[:2] for start in self.start_urls)
        return tuple(f"{scheme}://{netloc}/robots.txt" for scheme, netloc in origins)

    def is_article_url(self, url: str) -> bool:
        """Tell whether ``url`` matches the article pattern (any URL when there is none)."""
        return self.article_pattern is None or bool(self.article_pattern.search(url))


def sources_file(settings: BaseSettings) -> Path:
    """Return ``NEWS_SOURCES_FILE``, else the ``sources.toml`` beside ``scrapy.cfg``."""
    configured = option(settings, "NEWS_SOURCES_FILE")
    if configured:
        return Path(configured)
    project_cfg = closest_scrapy_cfg()
    root = Path(project_cfg).parent if project_cfg else Path()
    return root / DEFAULT_SOURCES_FILE


def load_sources(path: str | Path) -> dict[str, Source]:
    """Read and check a sources file; return the registry by name or raise :class:`SourcesError`.

    A UTF-8 byte order mark (which some editors write) is skipped: TOML itself refuses it.
    """
    label = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as exc:
        raise SourcesError(f"{label}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise SourcesError(f"{label}: not valid TOML: not UTF-8 ({exc})") from exc
    try:
        data = tomllib.loads(text.removeprefix(_BOM))
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{label}: not valid TOML: {exc}") from exc
    return parse_sources(data, label)


def parse_sources(data: Mapping[str, Any], label: str) -> dict[str, Source]:
    """Check parsed TOML (a ``[[source]]`` array) and return the registry by name."""
    unknown = sorted(set(data) - {"source"})
    if unknown:
        raise SourcesError(f'{label}: unknown top-level key "{unknown[0]}" (expected [[source]])')
    entries = data.get("source", [])
    if not isinstance(entries, list):
        raise SourcesError(f"{label}: source: expected an array of tables ([[source]])")
    registry: dict[str, Source] = {}
    for position, entry in enumerate(entries, start=1):
        source = parse_source(entry, f"{label}: source #{position}")
        if source.name in registry:
            raise SourcesError(f'{label}: source "{source.name}": duplicate name')
        registry[source.name] = source
    return registry


def parse_source(entry: Any, where: str) -> Source:
    """Check one ``[[source]]`` table; ``where`` names it until its name is known."""
    if not isinstance(entry, dict):
        raise SourcesError(f"{where}: expected a table")
    name = entry.get("name")
    if isinstance(name, str) and name:
        where = f'{where.rpartition(": source #")[0]}: source "{name}"'

    def fail(key: str, problem: str) -> SourcesError:
        return SourcesError(f'{where}: field "{key}": {problem}')

    unknown = sorted(set(entry) - _ENTRY_FIELDS)
    if unknown:
        raise fail(unknown[0], "unknown field")
    for key in ("name", "publisher", "start_urls"):
        if key not in entry:
            raise fail(key, "missing")
    name = _typed(entry, "name", str, fail)
    if not _NAME_RE.match(name):
        raise fail("name", f"{name!r} must be lower case letters, digits and _")
    publisher = _typed(entry, "publisher", str, fail).strip()
    if not publisher:
        raise fail("publisher", "empty")
    start_urls = _start_urls(entry["start_urls"], fail)
    pattern = _regex(entry, "article_pattern", fail)
    links = _selector(entry, "article_links", fail)
    if pattern is None and links is None and any(s.kind in ("auto", "html") for s in start_urls):
        raise fail(
            "article_pattern", "missing (HTML listings need article_pattern or article_links)"
        )
    selectors = entry.get("selectors", {})
    if not isinstance(selectors, dict):
        raise fail("selectors", f"expected a table, got {_type_name(selectors)}")
    for key in selectors:
        if key not in SELECTOR_FIELDS:
            raise fail(f"selectors.{key}", f"unknown field (one of {', '.join(SELECTOR_FIELDS)})")
        _selector(selectors, key, lambda k, p: fail(f"selectors.{k}", p))
    encoding = entry.get("encoding")
    if encoding is not None:
        encoding = _typed(entry, "encoding", str, fail)
        try:
            encoding = codecs.lookup(encoding).name
        except (LookupError, ValueError):  # ValueError: an embedded NUL
            raise fail("encoding", f"unknown encoding {entry['encoding']!r}") from None
    return Source(
        name=name,
        publisher=publisher,
        start_urls=start_urls,
        article_pattern=pattern,
        article_links=links,
        next_page=_selector(entry, "next_page", fail),
        selectors=dict(selectors),
        encoding=encoding,
        download_delay=_number(entry, "download_delay", 1.0, 0, fail),
        concurrency=int(_number(entry, "concurrency", 2, 1, fail, integer=True)),
        max_pages=int(_number(entry, "max_pages", 3, 1, fail, integer=True)),
        enabled=_typed(entry, "enabled", bool, fail) if "enabled" in entry else True,
        download_maxsize=(
            int(_number(entry, "download_maxsize", 0, 1024, fail, integer=True))
            if "download_maxsize" in entry
            else None
        ),
        sitemaps_from_robots=(
            _typed(entry, "sitemaps_from_robots", bool, fail)
            if "sitemaps_from_robots" in entry
            else False
        ),
        follow=_typed(entry, "follow", bool, fail) if "follow" in entry else False,
    )


def _start_urls(value: Any, fail: Callable[[str, str], SourcesError]) -> tuple[StartUrl, ...]:
    """Check ``start_urls``: a non-empty array of URLs or ``{url, kind}`` tables."""
    if not isinstance(value, list) or not value:
        raise fail("start_urls", f"expected a non-empty array, got {_type_name(value)}")
    result = []
    for index, item in enumerate(value):
        key = f"start_urls[{index}]"
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict):
            raise fail(key, f"expected a URL or a table {{url, kind}}, got {_type_name(item)}")
        unknown = sorted(set(item) - _START_URL_FIELDS)
        if unknown:
            raise fail(f"{key}.{unknown[0]}", "unknown field")
        url = item.get("url")
        if not isinstance(url, str):
            raise fail(f"{key}.url", "missing" if url is None else "expected a string")
        kind = item.get("kind", "auto")
        if kind not in KINDS:
            raise fail(f"{key}.kind", f"{kind!r} is not one of {', '.join(KINDS)}")
        problem = url_problem(url)
        if problem:
            raise fail(key, problem)
        result.append(StartUrl(url, kind))
    return tuple(result)


def url_problem(template: str) -> str | None:
    """Return what is wrong with a start URL (template), or ``None`` when it is usable."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        return f"bad placeholder in {template!r}: {exc}"
    if any(f != "date" for f in fields):
        return f"bad placeholder in {template!r}: only {{date:<strftime format>}} is known"
    try:
        url = template.format(date=date(2000, 1, 2))
    except (ValueError, AttributeError) as exc:
        return f"bad placeholder in {template!r}: {exc}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range or not a number
    except ValueError as exc:  # Invalid IPv6 URL, Port out of range 0-65535
        return f"{template!r} is not an absolute http(s) URL: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{template!r} is not an absolute http(s) URL"
    return None


def _typed(
    entry: Mapping[str, Any],
    key: str,
    kind: type | tuple[type, ...],
    fail: Callable[..., SourcesError],
) -> Any:
    """Return ``entry[key]`` when it has type ``kind``."""
    value = entry[key]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise fail(key, f"expected {_KIND_NAMES[kind]}, got {_type_name(value)}")
    return value


def _number(
    entry: Mapping[str, Any],
    key: str,
    default: float,
    minimum: float,
    fail: Callable[..., SourcesError],
    *,
    integer: bool = False,
) -> float:
    """Return the finite number ``entry[key]`` (at least ``minimum``), else ``default``."""
    if key not in entry:
        return default
    value = _typed(entry, key, int if integer else (int, float), fail)
    if not math.isfinite(value):
        raise fail(key, f"must be a finite number, not {value}")
    if value < minimum:
        raise fail(key, f"must be at least {minimum}, not {value}")
    return value


def _regex(
    entry: Mapping[str, Any], key: str, fail: Callable[..., SourcesError]
) -> re.Pattern[str] | None:
    """Return ``entry[key]`` compiled as a regular expression, else ``None``."""
    if key not in entry:
        return None
    pattern = _typed(entry, key, str, fail)
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise fail(key, f"invalid regex: {exc}") from None
    except (OverflowError, RecursionError) as exc:  # a{4294967296}, (((…)))
        raise fail(key, f"invalid regex: too large or too deeply nested ({exc})") from None


def _selector(entry: Mapping[str, Any], key: str, fail: Callable[..., SourcesError]) -> str | None:
    """Return ``entry[key]`` once it compiles as CSS (or XPath after ``xpath:``), else ``None``."""
    if key not in entry:
        return None
    text = _typed(entry, key, str, fail).strip()
    if not text.startswith(XPATH_PREFIX) and (pseudo := browser_pseudo_class(text)):
        raise fail(
            key,
            f"CSS selector {text!r} uses :{pseudo}, which never matches a downloaded page "
            "(it depends on a browser's pointer, focus or history)",
        )
    try:
        select(Selector(text="<html></html>"), text)
    except (ValueError, SelectorError, RecursionError) as exc:
        kind = "XPath" if text.startswith(XPATH_PREFIX) else "CSS selector"
        raise fail(key, f"invalid {kind} {text!r}: {exc}") from None
    return text


def browser_pseudo_class(css: str) -> str | None:
    """Return the first pseudo-class of ``css`` in :data:`BROWSER_PSEUDO_CLASSES`, else None.

    Read from cssselect's tokens, so a quoted ``":hover"`` is no pseudo-class; a selector that
    does not tokenize is left to the compiler's error.
    """
    try:
        tokens = list(tokenize(css))
    except SelectorError:
        return None
    for before, colon, name in zip([None, *tokens], tokens, tokens[1:], strict=False):
        if (
            colon.type == "DELIM"
            and colon.value == ":"
            and (before is None or (before.type, before.value) != ("DELIM", ":"))  # ::element
            and name.type == "IDENT"
            and str(name.value).lower() in BROWSER_PSEUDO_CLASSES
        ):
            return str(name.value).lower()
    return None


def select(selector: Selector, query: str) -> Any:
    """Run a configured selector: XPath after ``xpath:``, CSS otherwise."""
    if query.startswith(XPATH_PREFIX):
        return selector.xpath(query[len(XPATH_PREFIX) :].strip())
    return selector.css(query)


def _type_name(value: Any) -> str:
    """Name a TOML value's type for an error message."""
    return _KIND_NAMES.get(type(value), type(value).__name__)


_KIND_NAMES: dict[Any, str] = {
    str: "a string",
    bool: "true or false",
    int: "an integer",
    float: "a number",
    (int, float): "a number",
    list: "an array",
    dict: "a table",
    date: "a date",
}
