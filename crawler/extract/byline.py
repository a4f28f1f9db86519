"""Read the byline: publish time, source (来源) and authors, printed near the headline.

The header zone is the text between the headline and the body. Values are returned raw, as printed;
the pipeline's normalisers parse them. A printed time counts when the dates stage would accept it:
a real calendar date and clock time, plausible by the vocabulary's one rule (China time unless the
page says otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, cast

from lxml import etree

from crawler.extract.dom import collapse
from crawler.extract.patterns import (
    AUTHOR_HINT_RE,
    AUTHOR_RE,
    BEFORE_HEADLINE_CHARS,
    HEADER_ZONE_CHARS,
    HINT_TEXT_MAX,
    LOOSE_TIME_RE,
    MAX_AUTHORS,
    MIDNIGHT_RE,
    MONTH_DAY_CLOCK_RE,
    NAME_AFTER_TIME_RE,
    SCRIPT_TIME_RE,
    SCRIPT_UPDATE_TIME_RE,
    SOURCE_HEADER_RE,
    SOURCE_HINT_RE,
    SOURCE_META_KEYS,
    TIME_LABEL_RE,
    TIME_META_KEYS,
    UPDATE_META_KEYS,
    URLISH_RE,
)
from crawler.normalize.dates import datetime_from_match
from crawler.vocabulary import (
    CHINA_TZ,
    DATETIME_RE,
    EDGE_PUNCT,
    ROLE_MARK,
    SOURCE_LINE,
    cut_at_label_word,
    is_plausible,
    split_names,
)

if TYPE_CHECKING:
    import re

    from lxml.html import HtmlElement

    from crawler.extract.dom import TextIndex
# Source lines are looked for among the body's last lines and first lines.
TRAILER_LINES = 5
LEADING_LINES = 2

_HINTED = etree.XPath(
    "//body//*[contains(translate(@class, 'SOURCEAUTHR', 'sourceauthr'), 'source')"
    " or contains(translate(@id, 'SOURCEAUTHR', 'sourceauthr'), 'source')"
    " or contains(translate(@class, 'SOURCEAUTHR', 'sourceauthr'), 'author')"
    " or contains(translate(@id, 'SOURCEAUTHR', 'sourceauthr'), 'author')]"
)


@dataclass(frozen=True)
class HeaderZone:
    """Offsets of the headline's start and of the text between the headline and the body."""

    headline_start: int = 0
    start: int = 0
    end: int = 0

    @property
    def span(self) -> tuple[int, int]:
        """Return (start, end) of the zone's text."""
        return self.start, self.end


def header_zone(
    index: TextIndex, headline: HtmlElement | None, body: HtmlElement | None
) -> HeaderZone:
    """Return the header zone: the text after the headline, up to the body (bounded)."""
    headline_span = index.span(headline)
    if headline_span is None:
        return HeaderZone()
    start = headline_span[1]
    end = start + HEADER_ZONE_CHARS
    body_span = index.span(body)
    if body_span is not None and start <= body_span[0] < end:
        end = body_span[0]
    return HeaderZone(headline_span[0], start, end)


def is_printed_time(match: re.Match[str], now: datetime | None) -> bool:
    """Tell whether a date(time) match is real and, given ``now``, a plausible publish time."""
    at = datetime_from_match(match, CHINA_TZ)
    return at is not None and (now is None or is_plausible(at, now))


def first_datetime(
    text: str, start: int = 0, end: int | None = None, *, now: datetime | None = None
) -> re.Match[str] | None:
    """Return the first real date(time) in text[start:end]; given ``now``, the first plausible."""
    for match in DATETIME_RE.finditer(text, start, len(text) if end is None else end):
        if is_printed_time(match, now):
            return match
    return None


def epoch_to_text(value: str) -> str:
    """Render a Unix timestamp (seconds or milliseconds) as ISO 8601 in China time."""
    seconds = int(value) / (1000 if len(value) > 10 else 1)
    return datetime.fromtimestamp(seconds, tz=CHINA_TZ).isoformat()


def stated_times(
    metas: dict[str, str],
    scripts: str,
    now: datetime,
    meta_keys: tuple[str, ...],
    script: re.Pattern[str],
) -> list[str]:
    """Return the plausible timestamps that <meta> tags (``meta_keys``, in order) and inline
    script data (``script``'s ``value`` group) state, as text."""
    found = [
        value.strip()
        for key in meta_keys
        if (value := metas.get(key)) and first_datetime(value, now=now)
    ]
    for match in script.finditer(scripts):
        value = match["value"]
        text = epoch_to_text(value) if value.isdigit() else value
        if first_datetime(text, now=now):
            found.append(text)
    return found


def evidence_time(metas: dict[str, str], scripts: str, now: datetime) -> str | None:
    """Return the publication time stated by <meta> tags or inline script data."""
    times = stated_times(metas, scripts, now, TIME_META_KEYS, SCRIPT_TIME_RE)
    return times[0] if times else None


def china_time(text: str, now: datetime) -> datetime | None:
    """Return the complete timestamp (date and clock) a text states, in China time."""
    match = first_datetime(text, now=now)
    if match is None or match["H"] is None:
        return None
    at = datetime_from_match(match, CHINA_TZ)
    return at.astimezone(CHINA_TZ) if at is not None else None


def agreeing_time(printed: tuple[int, ...], candidates: list[str], now: datetime) -> str | None:
    """Return the first complete machine-readable timestamp that agrees with a printed time.

    ``printed`` holds the parts the page prints: (year, month, day) for a date without a clock
    (a midnight stamp is a date-only placeholder then, not a time), or (month, day, hour, minute)
    for a clock without a year.
    """
    for text in candidates:
        at = china_time(text, now)
        if at is None:
            continue
        if len(printed) == 3:
            parts: tuple[int, ...] = (at.year, at.month, at.day)
            if MIDNIGHT_RE.search(text):
                continue
        else:
            parts = (at.month, at.day, at.hour, at.minute)
        if parts == printed:
            return text
    return None


def labelled_time(index: TextIndex, body_span: tuple[int, int] | None, now: datetime) -> str | None:
    """Return the first labelled time ("发布日期：2019-03-06") outside the body."""
    for label in TIME_LABEL_RE.finditer(index.text):
        if body_span and body_span[0] <= label.start() < body_span[1]:
            continue
        match = first_datetime(index.text, label.end(), label.end() + 40, now=now)
        if match is not None and match.start() == label.end():
            return match[0].strip()
    return None


def find_publish_time(
    index: TextIndex,
    zone: HeaderZone,
    body: HtmlElement | None,
    metas: dict[str, str],
    scripts: str,
    now: datetime,
) -> str | None:
    """Return the raw publish time: printed after the headline, else stated in meta or script
    data, else labelled elsewhere, else printed just before the headline, else a loose time.

    A printed date without a clock, or a clock without a year, gives way to a complete
    machine-readable timestamp of the page that agrees with it (publication times first, then
    update times). Only times plausible at ``now`` count."""
    evidence = evidence_time(metas, scripts, now)
    candidates = [
        *stated_times(metas, scripts, now, TIME_META_KEYS, SCRIPT_TIME_RE),
        *stated_times(metas, scripts, now, UPDATE_META_KEYS, SCRIPT_UPDATE_TIME_RE),
    ]
    printed = first_datetime(index.text, *zone.span, now=now)
    if printed is not None:
        if printed["H"] is None:
            day = (int(printed["y"]), int(printed["m"]), int(printed["d"]))
            if agreeing := agreeing_time(day, candidates, now):
                return agreeing
        return printed[0].strip()
    if evidence:
        return evidence
    if labelled := labelled_time(index, index.span(body), now):
        return labelled
    if zone.end:
        window_start = max(0, zone.headline_start - BEFORE_HEADLINE_CHARS)
        if before := first_datetime(index.text, window_start, zone.headline_start, now=now):
            return before[0].strip()
    loose = LOOSE_TIME_RE.search(index.text, *zone.span)
    if loose is None:
        return None
    if clock := MONTH_DAY_CLOCK_RE.fullmatch(loose[0].strip()):
        parts = tuple(int(clock[name]) for name in ("month", "day", "hour", "minute"))
        if agreeing := agreeing_time(parts, candidates, now):
            return agreeing
    return loose[0].strip()


def clean_value(value: str | None) -> str | None:
    """Cut a label's value at the next label, drop role marks and punctuation; ``None`` when no
    name is left (too short, a date, a number)."""
    value = cut_at_label_word(collapse(value))
    value = ROLE_MARK.sub("", value).strip(EDGE_PUNCT)
    if len(value) < 2 or first_datetime(value) or value.isdigit():
        return None
    return value


def hinted_elements(
    root: HtmlElement, index: TextIndex, zone: HeaderZone, hint: re.Pattern[str]
) -> list[HtmlElement]:
    """Return the elements inside the header zone whose class or id matches `hint`."""
    found = []
    for element in cast("list[HtmlElement]", _HINTED(root)):
        span = index.span(element)
        if (
            span
            and zone.start <= span[0] < zone.end
            and hint.search(f"{element.get('class', '')} {element.get('id', '')}")
        ):
            found.append(element)
    return found


def name_after_time(index: TextIndex, zone: HeaderZone, now: datetime) -> str | None:
    """Return a bare name printed right after the time in the same text node."""
    printed = first_datetime(index.text, *zone.span, now=now)
    if printed is None:
        return None
    _, piece_end = index.piece_at(printed.start())
    match = NAME_AFTER_TIME_RE.match(index.text[printed.end() : piece_end])
    return clean_value(match["value"]) if match else None


def body_line_source(lines: list[str]) -> str | None:
    """Return the source named by a 来源 line at the end (or the very start) of the body."""
    for line in [*reversed(lines[-TRAILER_LINES:]), *lines[:LEADING_LINES]]:
        match = SOURCE_LINE.match(line)
        if match and (value := clean_value(match["value"])):
            return value
    return None


def meta_source(metas: dict[str, str]) -> str | None:
    """Return the source a <meta> tag names (a name, never an address)."""
    for key in SOURCE_META_KEYS:
        value = clean_value(metas.get(key))
        if value and not URLISH_RE.search(value):
            return value
    return None


def find_publisher(
    root: HtmlElement,
    index: TextIndex,
    zone: HeaderZone,
    body_lines: list[str],
    metas: dict[str, str],
    now: datetime,
) -> str | None:
    """Return the source: header label, source-classed element, bare name, body line, or the
    page's source <meta>."""
    zone_text = index.text[zone.start : zone.end]
    for match in SOURCE_HEADER_RE.finditer(zone_text):
        if value := clean_value(match["value"]):
            return value
    for element in hinted_elements(root, index, zone, SOURCE_HINT_RE):
        text = collapse(element.text_content())
        if len(text) <= HINT_TEXT_MAX and (value := clean_value(text)):
            return value
    return name_after_time(index, zone, now) or body_line_source(body_lines) or meta_source(metas)


def author_names(value: str) -> list[str]:
    """Split an author value into clean names, each once, at most MAX_AUTHORS."""
    names = (clean_value(name) for name in split_names(value))
    return [name for name in dict.fromkeys(names) if name][:MAX_AUTHORS]


def find_authors(root: HtmlElement, index: TextIndex, zone: HeaderZone) -> list[str]:
    """Return the authors labelled (作者/记者) or author-classed in the header zone."""
    zone_text = index.text[zone.start : zone.end]
    for match in AUTHOR_RE.finditer(zone_text):
        if names := author_names(cut_at_label_word(match["value"])):
            return names
    for element in hinted_elements(root, index, zone, AUTHOR_HINT_RE):
        text = collapse(element.text_content())
        if len(text) <= HINT_TEXT_MAX and (names := author_names(text)):
            return names
    return []
