"""What every listing gives, whatever its source: entries, paging facts, their merge with a page.

A listing (East Money's list APIs, an HTML link list, RSS, Atom, a sitemap) is read into a
:class:`Listing` of :class:`ListingEntry` records, as printed. The article of an entry is its page's
raw fields merged with the entry's by the :class:`Precedence` its source declares: which side wins
each field both can give, the other standing in where the winner has nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crawler.items import Article


@dataclass(frozen=True, slots=True)
class ListingEntry:
    """One article a listing names, and what the listing says of it, raw.

    ``native_id`` is the source's own id where it has one (East Money's code); ``cursor`` the
    listing's position of the entry where the listing pages by cursor (East Money's 7×24).
    """

    url: str
    native_id: str | None = None
    title: str | None = None
    published_text: str | None = None
    summary: str | None = None
    publisher: str | None = None
    cursor: str | None = None


@dataclass(slots=True)
class Listing:
    """A listing read: its entries, where the walk may go next, and what was skipped.

    ``kind`` is the listing's format (``json``, ``html``, ``rss``, ``atom``, ``sitemap``);
    ``skipped`` holds ``(reason, detail)`` of the records that could not become entries;
    ``total`` the number of hits a list API reports, when it does.
    """

    kind: str
    entries: list[ListingEntry] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    next_url: str | None = None
    sitemaps: list[str] = field(default_factory=list)
    total: int | None = None

    @property
    def cursor(self) -> str | None:
        """The last cursor of the page (East Money 7×24: the next page's ``sortEnd``)."""
        return next((e.cursor for e in reversed(self.entries) if e.cursor), None)


class Side(enum.Enum):
    """Where a field of an article comes from: the listing's entry or the article's page."""

    LISTING = "listing"
    PAGE = "page"


@dataclass(frozen=True, slots=True)
class Precedence:
    """Which side wins each field the listing and the page can both give; the other stands in.

    ``url`` is the page's address (where it was served from) against the listing's: a source whose
    article ids come from their URLs must take the listing's, the one storage was asked about.
    """

    url: Side
    title: Side
    published_text: Side
    publisher: Side
    summary: Side


#: The fields a :class:`Precedence` decides, in its order.
MERGED_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Precedence))


def merge(entry: ListingEntry, page: Article, precedence: Precedence) -> Article:
    """Return ``page`` with each merged field taken from the side ``precedence`` names first,
    else from the other side (an empty value gives way as ``None`` does)."""
    for name in MERGED_FIELDS:
        listed, printed = getattr(entry, name), getattr(page, name)
        if getattr(precedence, name) is Side.LISTING:
            setattr(page, name, listed or printed)
        else:
            setattr(page, name, printed or listed)
    return page
