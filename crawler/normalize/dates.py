"""Dates stage: the printed publish time becomes an aware UTC datetime plus the source's offset.

A fast path of regular expressions reads every format the sources print; ``dateparser`` (zh, en)
takes whatever is left. Relative times (``今天 16:25``, ``3小时前``, ``刚刚``) are read against the
crawl time (the item's ``fetched_at``), so they are reproducible in tests.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from crawler.vocabulary import (
    AGO,
    AGO_UNITS,
    CHINA_TZ,
    CLOCK,
    DATETIME_RE,
    DAY_OFFSETS,
    DAY_WORD_CLOCK,
    JUST_NOW,
    MAX_FUTURE_HOURS,
    MONTH_DAY_CLOCK,
    is_plausible,
)

if TYPE_CHECKING:
    from collections.abc import Callable


logger = logging.getLogger(__name__)

__all__ = [
    "CHINA_TZ",
    "MAX_OFFSET",
    "MAX_TIME_TEXT_CHARS",
    "PublishTime",
    "Refusal",
    "datetime_from_match",
    "format_offset",
    "in_source_zone",
    "is_plausible",
    "parse_publish_time",
    "read_publish_time",
]


@dataclass(frozen=True)
class PublishTime:
    """A parsed publish time: ``at`` is aware and in UTC, ``offset`` the source's (``+08:00``)."""

    at: datetime
    offset: str


class Refusal(StrEnum):
    """Why a printed time was not read: each is counted as ``news/dates/refused/<value>``."""

    #: Longer than :data:`MAX_TIME_TEXT_CHARS`: page text, not a time.
    TOO_LONG = "too_long"
    #: A clock without a day (``10:00``, ``下午3:05``): the day would come from our clock.
    NO_DAY = "no_day"
    #: A day or clock that does not exist (``今天 25:99``, ``2022-02-30``, ``13-45 10:00``).
    IMPOSSIBLE = "impossible"
    #: Digits and separators in no layout we know (``12-11``, ``01/02/03``, ``2022``, ``-1``).
    AMBIGUOUS = "ambiguous"
    #: Nothing readable, or a date missing its day, month or year (``5月``, ``May 2022``).
    UNREADABLE = "unreadable"


#: The longest text, whitespace collapsed, read as a publish time. A time with its label and a
#: source beside it (``发布时间：2019-09-07 13:43:45 来源：证券市场红周刊``, 38 characters) fits
#: with room to spare; a longer text is page content handed over by mistake, and dateparser's
#: time grows with the length (a 300 KB RSS ``<pubDate>`` took 15 s).
MAX_TIME_TEXT_CHARS = 100

_NO_YEAR_RE = re.compile(rf"^{MONTH_DAY_CLOCK}$")
_CLOCK_RE = re.compile(rf"^{CLOCK}$", re.IGNORECASE)
_DAY_WORD_RE = re.compile(rf"^{DAY_WORD_CLOCK}$")
_AGO_RE = re.compile(rf"^{AGO}$")
_EPOCH_RE = re.compile(r"^\d{10}(?:\d{3})?(?:\.\d+)?$")
_DIGIT_RE = re.compile(r"\d")
_RFC2822_RE = re.compile(
    r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+(?P<year>\d{2,4})\s+\d{1,2}:\d{2}"
)


def format_offset(moment: datetime) -> str:
    """Return ``moment``'s UTC offset as ``+08:00``."""
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def in_source_zone(at: datetime, offset: str | None) -> datetime:
    """Return the UTC time ``at`` as the source printed it, at its ``+08:00`` offset."""
    return at.astimezone(_fixed_zone(offset) if offset else UTC)


def _fixed_zone(text: str) -> tzinfo:
    """Return the zone named by ``Z``, ``+0800``, ``+08:00``, ``GMT+8`` or ``UTC+8``."""
    if text.upper() == "Z":
        return UTC
    body = text.upper().removeprefix("GMT").removeprefix("UTC")
    sign = -1 if body.startswith("-") else 1
    digits = body[1:].replace(":", "")
    hours, minutes = (
        (int(digits[:2]), int(digits[2:] or 0)) if len(digits) > 2 else (int(digits), 0)
    )
    offset = timedelta(hours=hours, minutes=minutes)
    if offset > MAX_OFFSET or minutes >= 60:
        raise ValueError(f"no zone is {text} from UTC")
    return timezone(sign * offset)


_AFTERNOON = frozenset({"下午", "P", "p"})
_MORNING = frozenset({"上午", "A", "a"})
# The widest UTC offset any zone uses (Kiribati, +14:00); beyond it a printed offset is garbage.
MAX_OFFSET = timedelta(hours=14)


def _to_hour24(hour: int, meridiem: str | None) -> int:
    """Apply 上午/下午 (or AM/PM) to a 12-hour clock value."""
    if meridiem in _AFTERNOON and hour < 12:
        return hour + 12
    if meridiem in _MORNING and hour == 12:
        return 0
    return hour


def _localise(moment: datetime, zone: tzinfo) -> datetime:
    """Attach ``zone`` to a naive local time."""
    return moment.replace(tzinfo=zone)


def datetime_from_match(match: re.Match[str], zone: tzinfo) -> datetime | None:
    """Return the time a :data:`~crawler.vocabulary.DATETIME_RE` match prints, in its own zone
    or else in ``zone``; ``None`` when it names no real calendar day and clock time."""
    hour = _to_hour24(int(match["H"] or 0), match["meridiem"] or match["ampm"])
    try:
        moment = datetime(
            int(match["y"]),
            int(match["m"]),
            int(match["d"]),
            hour,
            int(match["M"] or 0),
            int(match["S"] or 0),
        )
        return _localise(moment, _fixed_zone(match["zone"]) if match["zone"] else zone)
    except ValueError:
        return None


def _parse_without_year(
    text: str, now: datetime, zone: tzinfo, max_future: timedelta
) -> datetime | Refusal | None:
    """Read ``05-20 09:51`` as the latest such day that is not beyond ``now + max_future``.

    Near the turn of the year that may be next year (a clock a few minutes ahead) or last year.
    ``None`` when ``text`` is not of this form; a refusal when it names no real day and clock.
    """
    match = _NO_YEAR_RE.match(text)
    if match is None:
        return None
    month, day, hour, minute, second = (
        int(match[name] or 0) for name in ("month", "day", "hour", "minute", "second")
    )
    local_now = now.astimezone(zone)
    for year in range(local_now.year + 1, local_now.year - 4, -1):  # 29 February: leap years
        try:
            moment = _localise(datetime(year, month, day, hour, minute, second), zone)
        except ValueError:
            continue
        if moment <= now + max_future:
            return moment
    return Refusal.IMPOSSIBLE


def _parse_relative(text: str, now: datetime, zone: tzinfo) -> datetime | Refusal | None:
    """Read ``刚刚``, ``今天 16:25``, ``昨天 10:00``, ``3小时前`` against ``now``.

    ``None`` when ``text`` is none of these; a refusal when its clock or count cannot be.
    """
    if text.lower() in JUST_NOW:
        return now.astimezone(zone)
    match = _DAY_WORD_RE.match(text)
    if match is not None:
        word, hour, minute, second = match.group("word", "hour", "minute", "second")
        day = now.astimezone(zone).date() - timedelta(days=DAY_OFFSETS[word])
        try:
            clock = time(int(hour), int(minute), int(second or 0))
        except ValueError:
            return Refusal.IMPOSSIBLE
        return datetime.combine(day, clock, tzinfo=zone)
    match = _AGO_RE.match(text)
    if match is not None:
        amount, unit = match.group("amount", "unit")
        count = 0.5 if amount == "半" else int(amount)
        try:
            return (now - count * AGO_UNITS[unit]).astimezone(zone)
        except OverflowError:
            return Refusal.IMPOSSIBLE
    return None


def _parse_epoch(text: str, zone: tzinfo) -> datetime | None:
    """Read epoch seconds (10 digits) or milliseconds (13 digits)."""
    if not _EPOCH_RE.match(text):
        return None
    value = float(text)
    if value > 1e11:
        value /= 1000.0
    return datetime.fromtimestamp(value, tz=zone)


def _parse_rfc2822(text: str) -> datetime | Refusal | None:
    """Read RSS dates: ``Fri, 20 May 2022 09:51:48 +0800``."""
    match = _RFC2822_RE.match(text)
    if match is None:
        return None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, OverflowError):
        return Refusal.IMPOSSIBLE
    # The email module reads years below 100 as 19xx/20xx: a guess we refuse.
    return moment if moment.year == int(match["year"]) else Refusal.AMBIGUOUS


def _parse_printed(text: str, zone: tzinfo) -> datetime | Refusal | None:
    """Read an absolute date printed anywhere in ``text``: trust it or refuse it, never
    reinterpret it."""
    printed = DATETIME_RE.search(text)
    if printed is None:
        return None
    return datetime_from_match(printed, zone) or Refusal.IMPOSSIBLE


def _refuse_unknown_layout(text: str) -> Refusal | None:
    """Refuse, before any guessing, a clock without a day and digits in no layout we know.

    dateparser would complete either from the crawl's clock (``10:00`` today, ``12-11`` as
    2012-11 with today's day, ``05.06`` as 05:06 today).
    """
    if _CLOCK_RE.match(text):
        return Refusal.NO_DAY
    if _DIGIT_RE.search(text) and not any(character.isalpha() for character in text):
        return Refusal.AMBIGUOUS
    return None


def _parse_with_dateparser(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    """Hand what the fast path does not know to dateparser (Chinese and English).

    Only a date with its day, month and year printed is read (``REQUIRE_PARTS``), so no part is
    taken from the crawl's clock; relative phrases (``2 hours ago``) are read against ``now``.
    """
    import dateparser  # slow to import, and most items never need it

    settings = {
        "TIMEZONE": str(zone),
        "RETURN_AS_TIMEZONE_AWARE": True,
        "RELATIVE_BASE": now.astimezone(zone).replace(tzinfo=None),
        "PREFER_DATES_FROM": "past",
        "DATE_ORDER": "YMD",
        "REQUIRE_PARTS": ["day", "month", "year"],
        # Epochs are the fast path's (10 or 13 digits only); no formats are given.
        "PARSERS": ["relative-time", "absolute-time"],
    }
    try:
        return dateparser.parse(text, languages=["zh", "en"], settings=settings)
    except (ValueError, OverflowError, TypeError):
        return None


def _read_fast(
    text: str, now: datetime, zone: tzinfo, max_future: timedelta
) -> datetime | Refusal | None:
    """Read the formats the sources print, without dateparser; ``None`` when none applies."""
    return (
        _parse_epoch(text, zone)
        or _parse_rfc2822(text)
        or _parse_printed(text, zone)
        or _parse_without_year(text, now, zone, max_future)
        or _parse_relative(text, now, zone)
        or _refuse_unknown_layout(text)
    )


def read_publish_time(
    raw: str | float | None,
    *,
    now: datetime,
    zone: tzinfo = CHINA_TZ,
    max_future: timedelta = timedelta(hours=MAX_FUTURE_HOURS),
    fallback: Callable[[str, datetime, tzinfo], datetime | None] | None = _parse_with_dateparser,
) -> PublishTime | Refusal:
    """Parse a printed publish time, or say why it was refused.

    Times without a zone are read in ``zone``; ``now`` (aware) anchors relative times. Nothing
    missing is taken from ``now``: a clock without a day, an impossible day or clock, and
    digits in no known layout are refused (:class:`Refusal`).
    """
    if raw is None or isinstance(raw, bool):
        return Refusal.UNREADABLE
    # Measured before any other work, whitespace collapsed. Splitting stops after as many words
    # as the limit allows characters, so a megabyte costs no more than one copy of it.
    text = " ".join(str(raw).split(None, MAX_TIME_TEXT_CHARS))
    if len(text) > MAX_TIME_TEXT_CHARS:
        return Refusal.TOO_LONG
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return Refusal.UNREADABLE
    moment = _read_fast(text, now, zone, max_future)
    if moment is None and fallback is not None and _DIGIT_RE.search(text):
        moment = fallback(text, now, zone)
    if moment is None:
        return Refusal.UNREADABLE
    if isinstance(moment, Refusal):
        return moment
    if moment.tzinfo is None:  # RFC 2822's "-0000": zone unknown, so the source's
        moment = _localise(moment, zone)
    try:
        return PublishTime(at=moment.astimezone(UTC), offset=format_offset(moment))
    except OverflowError:  # 0001-01-01 in a zone east of UTC
        return Refusal.IMPOSSIBLE


def parse_publish_time(
    raw: str | float | None,
    *,
    now: datetime,
    zone: tzinfo = CHINA_TZ,
    max_future: timedelta = timedelta(hours=MAX_FUTURE_HOURS),
    fallback: Callable[[str, datetime, tzinfo], datetime | None] | None = _parse_with_dateparser,
) -> PublishTime | None:
    """Parse a printed publish time; ``None`` when it cannot be read or is refused
    (:func:`read_publish_time` says why)."""
    result = read_publish_time(raw, now=now, zone=zone, max_future=max_future, fallback=fallback)
    return result if isinstance(result, PublishTime) else None
