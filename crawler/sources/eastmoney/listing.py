"""East Money's list APIs: where each keeps its records (feed shapes), their reader, 7×24 flashes,
and how a listing entry and its page make one article.

Every string read is as the feed printed it: titles may hold ``<em>``, times are China time without
a zone; the pipelines normalise them.
"""

from __future__ import annotations

import html
import re
import reprlib
from dataclasses import dataclass
from typing import Any

from crawler.items import Article
from crawler.sources.eastmoney.ids import article_url, native_id
from crawler.sources.eastmoney.payload import FeedError, dig, load_payload, raw_value
from crawler.sources.eastmoney.securities import VIA_FEED, stock_list, tag
from crawler.sources.listing import Listing, ListingEntry, Precedence, Side

#: ``Np_dst`` of 财富号 posts: another host and another kind of page, not news articles.
CFH_MARKER = "CFH"

#: How an entry and its page merge. The feed's time wins: it has seconds, the page only minutes.
#: The address the page was served from wins (a column listing's ``http://`` URL may be
#: redirected): the article id is the code, whatever the URL. Pages that are not the article's own
#: (a flash made from its list item, a ``GetNewsText`` body) have no address: the listing's stands.
PRECEDENCE = Precedence(
    url=Side.PAGE,
    title=Side.PAGE,
    published_text=Side.LISTING,
    publisher=Side.PAGE,
    summary=Side.LISTING,
)

_TITLE_PREFIX_RE = re.compile(r"^\s*【[^】]*】\s*")
_TRUNCATED_RE = re.compile(r"(?:…|\.\.\.)\s*$")


@dataclass(frozen=True, slots=True)
class FeedShape:
    """Where a list API keeps its records and their fields (sources.md §1–2)."""

    records: tuple[str, ...]
    code: tuple[str, ...]
    title: str
    time: str
    summary: str | None = None
    publisher: str | None = None
    url: str | None = None
    cursor: str | None = None
    total: tuple[str, ...] | None = None
    skip_field: tuple[str, str] | None = None
    check_code: bool = True
    #: The field listing the securities a record is about (7×24: ``stockList``).
    securities: str | None = None
    #: A page whose records all lack ``code`` and ``title`` is a changed shape, not a page of
    #: incomplete records: for a shape known only from other projects' code.
    shape_check: bool = False


@dataclass(frozen=True, slots=True)
class EastMoneyEntry(ListingEntry):
    """A listing entry and the securities its record names, in their stored form
    (:mod:`crawler.sources.eastmoney.securities`)."""

    securities: tuple[dict[str, Any], ...] = ()


#: Every list feed, by the ``feed`` value its articles carry (``column:<id>`` uses ``column``).
FEEDS: dict[str, FeedShape] = {
    "column": FeedShape(
        records=("data", "list"),
        code=("code",),
        title="title",
        time="showTime",
        summary="summary",
        publisher="mediaName",
        url="url",
        total=("data", "totle_hits"),
        skip_field=("Np_dst", CFH_MARKER),
    ),
    "724": FeedShape(
        records=("data", "fastNewsList"),
        code=("code",),
        title="title",
        time="showTime",
        summary="summary",
        cursor="realSort",
        securities="stockList",
    ),
    # A security's news (``getListInfo``): a shape known only from other projects' code, so a
    # page whose records lack it fails as ``bad/shape`` rather than reading as empty.
    "stock": FeedShape(
        records=("data", "list"),
        code=("Art_Code",),
        title="Art_Title",
        time="Art_ShowTime",
        publisher="Art_MediaName",
        url="Art_Url",
        skip_field=("Np_dst", CFH_MARKER),
        check_code=False,
        shape_check=True,
    ),
    "rolling": FeedShape(
        records=("records",),
        code=("infoCode", "id"),
        title="title",
        time="showtime",
        summary="digest",
        url="url_w",
        check_code=False,
    ),
    "media": FeedShape(
        records=("nodeList",),
        code=("infocode",),
        title="title",
        time="showtime",
        summary="simdigest",
        publisher="from",
        check_code=False,
    ),
    "market": FeedShape(
        records=("record",),
        code=("infoCode",),
        title="title",
        time="datetime",
        publisher="medianame",
        check_code=False,
    ),
}


class ListingParser:
    """Read one list API response of a :class:`FeedShape` into :class:`ListingEntry` records."""

    def __init__(self, shape: FeedShape, article_url: str) -> None:
        self.shape = shape
        self.article_url = article_url

    def parse(self, text: str) -> Listing:
        """Return the page's entries; raise :class:`FeedError` for a response without data."""
        payload = load_payload(text, check_code=self.shape.check_code)
        records = dig(payload, self.shape.records)
        if not isinstance(records, list):
            raise FeedError("api_error", f"no list at {'.'.join(self.shape.records)}")
        self.check_shape(records)
        page = Listing("json", total=self.total(payload))
        for record in records:
            try:
                entry, reason = self.entry(record)
            except (ValueError, TypeError, OverflowError, RecursionError):
                # One malformed record never costs the page its good ones.
                entry, reason = None, "incomplete"
            if entry is None:
                page.skipped.append((reason, self.describe(record)))
            else:
                page.entries.append(entry)
                page.skipped.extend(("malformed_secid", value) for value in self.malformed(record))
        return page

    def malformed(self, record: dict[str, Any]) -> list[str]:
        """Return the malformed values of a record's securities field, if the shape has one."""
        return stock_list(record.get(self.shape.securities))[1] if self.shape.securities else []

    def check_shape(self, records: list[Any]) -> None:
        """Raise :class:`FeedError` (``shape``) when the shape is checked and no record holds
        its code and title fields: the API changed, and every page would read as empty."""
        if not self.shape.shape_check or not records:
            return
        keys = (*self.shape.code, self.shape.title)
        if any(isinstance(r, dict) and all(k in r for k in keys) for r in records):
            return
        first = records[0]
        found = sorted(first)[:12] if isinstance(first, dict) else type(first).__name__
        raise FeedError("shape", f"no record has {', '.join(keys)}; first record: {found}")

    def total(self, payload: Any) -> int | None:
        """Return the number of hits the API reports (``totle_hits``, sic), if it does."""
        if self.shape.total is None:
            return None
        value = dig(payload, self.shape.total)
        try:
            return int(value)
        except (TypeError, ValueError, OverflowError):  # NaN is a ValueError, Infinity overflows
            return None

    def entry(self, record: Any) -> tuple[ListingEntry | None, str]:
        """Return the entry of one record, or ``None`` and the reason it is skipped."""
        if not isinstance(record, dict):
            return None, "incomplete"
        shape = self.shape
        if shape.skip_field and record.get(shape.skip_field[0]) == shape.skip_field[1]:
            return None, "cfh"
        code = next((c for key in shape.code if (c := native_id(record.get(key)))), None)
        title = raw_value(record.get(shape.title))
        published = raw_value(record.get(shape.time))
        if code is None or title is None or published is None:
            return None, "incomplete"
        securities = stock_list(record.get(shape.securities))[0] if shape.securities else []
        return (
            EastMoneyEntry(
                url=self.url(record, code),
                native_id=code,
                title=title,
                published_text=published,
                summary=raw_value(record.get(shape.summary)) if shape.summary else None,
                publisher=raw_value(record.get(shape.publisher)) if shape.publisher else None,
                cursor=raw_value(record.get(shape.cursor)) if shape.cursor else None,
                securities=tuple(tag(securities, VIA_FEED)),
            ),
            "",
        )

    def url(self, record: dict[str, Any], code: str) -> str:
        """Return the record's article URL when it names this article, else the built one."""
        given = raw_value(record.get(self.shape.url)) if self.shape.url else None
        if given and native_id(given) == code:
            return given.strip()
        return article_url(code, self.article_url)

    def describe(self, record: Any) -> str:
        """Return a short description of a skipped record for the log."""
        if not isinstance(record, dict):
            return reprlib.repr(record)
        codes = [_short(record.get(key)) for key in self.shape.code if record.get(key)]
        return f"code={'/'.join(codes) or '?'} title={reprlib.repr(record.get(self.shape.title))}"


def _short(value: Any) -> str:
    """Return a feed value for the log: a string or number as is (cut), anything else abridged."""
    if isinstance(value, str | int | float):
        return str(value)[:40]
    return reprlib.repr(value)


def flash_text(entry: ListingEntry) -> str:
    """Return a flash's text without its leading ``【title】`` (the list repeats the title)."""
    return _TITLE_PREFIX_RE.sub("", entry.summary or "", count=1).strip()


def flash_needs_page(entry: ListingEntry) -> bool:
    """Tell whether a flash's list item cannot stand alone: no text past its title, or cut."""
    text = flash_text(entry)
    return not text or bool(_TRUNCATED_RE.search(text))


def flash_article(entry: ListingEntry) -> Article:
    """Return the article a 7×24 flash makes by itself: its title and its text as the body."""
    text = flash_text(entry) or (entry.summary or "").strip()
    return Article(
        title=entry.title,
        published_text=entry.published_text,
        body_html=f"<p>{html.escape(text, quote=False)}</p>" if text else None,
    )
