"""Worst-case time of reading one publish time, and of every date pattern (run by hand).

    python bench/dates.py [--chars 50000]

Hostile texts (long runs of digits, CJK, separators, spaces between a date's parts, repeated
dates and clocks) go through :func:`crawler.normalize.dates.parse_publish_time` at every length
up to a megabyte, and through every date pattern of :mod:`crawler.vocabulary` (as the normaliser
anchors them and as the extractor searches page text with them) at ``--chars`` and twice that:
a pattern that backtracks catastrophically shows as a time that grows faster than its input.
Last line: ``dates: slowest_field_ms=N slowest_pattern_ms=M growth=G``.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.extract.patterns import LOOSE_TIME_RE  # noqa: E402
from crawler.normalize import dates  # noqa: E402
from crawler.vocabulary import AGO, CLOCK, DATETIME_RE, DAY_WORD_CLOCK, MONTH_DAY_CLOCK  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable

NOW = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)

#: Pieces repeated to build hostile texts: every character class the date patterns read.
PUMPS: dict[str, tuple[str, str, str]] = {
    # name: (prefix, piece repeated, suffix that makes the match fail late)
    "digits": ("", "1", "x"),
    "cjk": ("", "年月日时分秒", "x"),
    "separators": ("", "-/.:：", "x"),
    "digit-separator": ("", "1-", "x"),
    "digit-space": ("", "1 ", "x"),
    "spaces-after-date": ("2022-05-20", " ", "x"),
    "spaces-after-T": ("2022-05-20 T", " ", "下午x"),
    "spaces-after-clock": ("2022-05-20 10:00", " ", "+x"),
    "spaces-after-month-day": ("05-20", " ", "x"),
    "spaces-in-day-word": ("今天", " ", "1x"),
    "spaces-in-ago": ("3", " ", "小时x"),
    "repeated-date": ("", "2022-05-20 ", ""),
    "repeated-partial-date": ("", "2022-05-", ""),
    "repeated-clock": ("", "10:00 ", ""),
    "repeated-words": ("", "May 20 ", ""),
    "repeated-month-day": ("", "1月2日 ", ""),
}
FIELD_LENGTHS = (50, dates.MAX_TIME_TEXT_CHARS, 1_000, 300_000, 1_000_000)


def hostile(name: str, chars: int) -> str:
    """Return the hostile text ``name`` about ``chars`` long."""
    prefix, piece, suffix = PUMPS[name]
    return prefix + piece * max(1, (chars - len(prefix) - len(suffix)) // len(piece)) + suffix


def timed(call: Callable[[], object]) -> float:
    """Return the seconds ``call`` takes (the best of three, so a busy machine counts less)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def patterns() -> dict[str, re.Pattern[str]]:
    """Return every date pattern, as the normaliser and the extractor compile it."""
    found = {
        "DATETIME_RE": DATETIME_RE,
        "LOOSE_TIME_RE (extractor)": LOOSE_TIME_RE,
        "MONTH_DAY_CLOCK": re.compile(MONTH_DAY_CLOCK),
        "DAY_WORD_CLOCK": re.compile(DAY_WORD_CLOCK),
        "AGO": re.compile(rf"(?<!\d){AGO}"),
        "CLOCK": re.compile(CLOCK, re.IGNORECASE),
    }
    found |= {
        f"dates.{name}": value
        for name, value in vars(dates).items()
        if isinstance(value, re.Pattern)
    }
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=50_000, help="pattern input length")
    args = parser.parse_args()
    dates.parse_publish_time("May 20, 2022 9:51 AM", now=NOW)  # import and warm dateparser

    fields = [
        (timed(partial(dates.parse_publish_time, hostile(name, length), now=NOW)), name, length)
        for name in PUMPS
        for length in FIELD_LENGTHS
    ]
    worst_field = max(fields)
    print(
        f"slowest field: {worst_field[1]} at {worst_field[2]} chars, {worst_field[0] * 1e3:.2f} ms"
    )

    rows = []
    for pattern_name, pattern in patterns().items():
        for name in PUMPS:
            seconds = timed(partial(pattern.search, hostile(name, 2 * args.chars)))
            base = timed(partial(pattern.search, hostile(name, args.chars)))
            # Below a millisecond the machine's noise is larger than any growth: linear is 2.
            growth = seconds / base if base >= 1e-3 else 2.0
            rows.append((seconds, growth, pattern_name, name))
    rows.sort(reverse=True)
    for seconds, growth, pattern_name, name in rows[:5]:
        print(f"{pattern_name:28s} {name:24s} {seconds * 1e3:8.2f} ms  x{growth:.1f} for 2x chars")
    print(
        f"dates: slowest_field_ms={worst_field[0] * 1e3:.2f} "
        f"slowest_pattern_ms={rows[0][0] * 1e3:.2f} growth={max(r[1] for r in rows):.1f}"
    )


if __name__ == "__main__":
    main()
