"""Attribution: publisher, its group and slug, authors and editor; credit lines leave the body.

Evidence, strongest first: the field the parser read (a feed's ``mediaName``, the page's
``来源：`` block), then the body's own credit lines (``（文章来源：X）``, ``□作者``,
``（责任编辑：X）``) and an outlet credited in brackets at the body's end (``…。（财联社）``).
The publisher is the name the page states, cleaned (``中国市场监管报``); the group it belongs to
(``中国市场监管新闻网``) is a field of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from pypinyin import lazy_pinyin

from crawler.normalize.text import clean_inline_text
from crawler.vocabulary import (
    AUTHOR_LINE,
    BYLINE_BOX,
    EDITOR_LINE,
    SOURCE_LINE,
    TRAILING_CREDIT,
    clean_label_value,
    split_names,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

# Names outlets go by → the group they belong to (a paper and its website, an agency and its app:
# different outlets to a reader, one group to a consumer). A source's names for itself are its
# own (``crawler/sources/<site>/cleaning.py``); the stage adds them (``crawler.sources.rules``).
PUBLISHER_GROUPS: dict[str, str] = {
    "中国市场监管报": "中国市场监管新闻网",
    "市场监管新闻网": "中国市场监管新闻网",
    "中证网": "中国证券报",
    "中国证券报·中证网": "中国证券报",
    "中国证券网": "上海证券报",
    "上海证券报·中国证券网": "上海证券报",
    "证券时报网": "证券时报",
    "证券时报·e公司": "证券时报",
    "人民网-人民日报": "人民日报",
    "新华社客户端": "新华社",
    "央视新闻": "央视新闻客户端",
    "e公司": "证券时报",
}

# How many paragraphs at each end of the body may be credit lines.
CREDIT_LINES_AT_END = 4
CREDIT_LINES_AT_START = 1
_OPEN = "<p>"
_CLOSE = "</p>"


@dataclass
class Credits:
    """Credit lines found in a body."""

    publisher: str | None = None
    editor: str | None = None
    authors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Publisher:
    """A publisher as stored: the name stated, its group and its slug (all ``None`` for none)."""

    name: str | None = None
    group: str | None = None
    slug: str | None = None


def clean_name(raw: str | None) -> str | None:
    """Return a person or media name without labels, brackets or trailing clauses."""
    if not raw:
        return None
    return clean_label_value(clean_inline_text(raw)) or None


def normalize_publisher(raw: str | None) -> str | None:
    """Return the publisher's name as the page states it, cleaned (``来源：中国市场监管报`` →
    ``中国市场监管报``); a name is never replaced by its group's (:func:`publisher_group`)."""
    return clean_name(raw)


def publisher_group(name: str | None, groups: Mapping[str, str] = PUBLISHER_GROUPS) -> str | None:
    """Return the group of outlets a publisher belongs to (``证券时报网`` → ``证券时报``): its
    entry in ``groups``, else the publisher itself."""
    if not name:
        return None
    return groups.get(name, name)


def split_authors(raw: str | None) -> list[str]:
    """Return the names in a byline (``记者 张三 李四`` → ``["张三", "李四"]``)."""
    text = clean_name(raw)
    if text is None:
        return []
    if raw is not None and raw.strip().startswith(BYLINE_BOX):
        return [text]
    return split_names(text)


def merge_authors(names: list[str]) -> list[str]:
    """Return ``names`` once each, in order; a name that ends a fuller one is the same person.

    A byline ``作者：陈良贤`` and a credit line ``□广东省人民政府副省长陈良贤`` name one author.
    """
    unique = list(dict.fromkeys(names))
    return [
        name
        for name in unique
        if not any(other != name and other.endswith(name) for other in unique)
    ]


@lru_cache(maxsize=4096)
def publisher_slug(publisher: str | None) -> str | None:
    """Return the publisher in pinyin, lower case, letters and digits only."""
    if not publisher:
        return None
    slug = re.sub(r"[^a-z0-9]", "", "".join(lazy_pinyin(publisher)).lower())
    return slug or None


def resolve_publisher(
    candidates: Iterable[str | None], groups: Mapping[str, str] = PUBLISHER_GROUPS
) -> Publisher:
    """Return the first candidate that names a publisher (raw, strongest evidence first) with
    its group and slug; an empty :class:`Publisher` when none does."""
    name = next((found for raw in candidates if (found := normalize_publisher(raw))), None)
    return Publisher(name, publisher_group(name, groups), publisher_slug(name))


def trailing_credit(text: str | None) -> str | None:
    """Return the outlet a text credits in brackets at its very end (``…。（财联社）``), if any."""
    match = TRAILING_CREDIT.search(text or "")
    return clean_name(match["value"]) if match else None


def _credit(text: str, credits: Credits) -> bool:
    """Record ``text`` in ``credits`` when it is a whole credit line; tell whether it was."""
    if match := SOURCE_LINE.match(text):
        credits.publisher = credits.publisher or normalize_publisher(match["value"])
        return True
    if match := EDITOR_LINE.match(text):
        credits.editor = credits.editor or clean_name(match["value"])
        return True
    if match := AUTHOR_LINE.match(text):
        boxed = match["boxed"]
        names = [clean_name(boxed)] if boxed else split_authors(match["value"])
        credits.authors.extend(name for name in names if name and name not in credits.authors)
        return True
    return False


def _is_credit(paragraph: str, credits: Credits) -> bool:
    """Record a ``<p>…</p>`` that is a credit line in ``credits``; tell whether it was one."""
    if "<img" in paragraph:
        return False
    text = clean_inline_text(paragraph)
    return bool(text) and _credit(text, credits)


def _without_trailing_credit(paragraph: str, credits: Credits) -> str | None:
    """Return ``<p>…</p>`` without the outlet credited at its end, recorded in ``credits``;
    ``None`` when it credits none, or another outlet than a credit line already named."""
    inner = paragraph[len(_OPEN) : -len(_CLOSE)]
    match = TRAILING_CREDIT.search(inner)
    if match is None:
        return None
    name = clean_name(match["value"])
    if name is None or credits.publisher not in (None, name):
        return None
    credits.publisher = name
    kept = inner[: match.start()] + (match["end"] or "") + match["tags"] + match["close"]
    return f"{_OPEN}{kept}{_CLOSE}" if clean_inline_text(kept) else ""


def _last_paragraph(body_html: str) -> tuple[str, str] | None:
    """Split off the body's last top-level ``<p>…</p>``; ``None`` when the body ends otherwise.

    Sanitised HTML comes from a serialiser: paragraphs carry no attributes and never nest, so a
    body ending in ``</p>`` ends with a top-level paragraph that opens at the last ``<p>``.
    """
    if not body_html.endswith(_CLOSE):
        return None
    start = body_html.rfind(_OPEN)
    return (body_html[:start].rstrip(), body_html[start:]) if start >= 0 else None


def _first_paragraph(body_html: str) -> tuple[str, str] | None:
    """Split off the body's first top-level ``<p>…</p>``; ``None`` when it starts otherwise."""
    if not body_html.startswith(_OPEN):
        return None
    end = body_html.find(_CLOSE) + len(_CLOSE)
    return (body_html[:end], body_html[end:].lstrip()) if end >= len(_CLOSE) else None


def extract_credits(body_html: str) -> tuple[str, Credits]:
    """Split credit lines off sanitised body HTML; return the remaining HTML and the credits.

    Only the unbroken run of credit paragraphs that ends the body counts (a chart's
    ``来源：国家统计局`` between two paragraphs is the chart's), then an outlet credited in
    brackets at the end of the paragraph before them (``…增长8.4%。（央视新闻客户端）``: the
    credit line of a flash), and a credit line opening the body. Every credit found leaves it.
    """
    credits = Credits()
    remaining = body_html.strip()
    for _ in range(CREDIT_LINES_AT_END):
        last = _last_paragraph(remaining)
        if last is None or not _is_credit(last[1], credits):
            break
        remaining = last[0]
    last = _last_paragraph(remaining)
    if last is not None and (kept := _without_trailing_credit(last[1], credits)) is not None:
        remaining = last[0] + kept
    for _ in range(CREDIT_LINES_AT_START):
        first = _first_paragraph(remaining)
        if first is None or not _is_credit(first[0], credits):
            break
        remaining = first[1]
    if remaining == body_html.strip():
        return body_html, credits
    return remaining, credits
