"""Title stage: a clean headline from whatever the page or feed printed."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from crawler.normalize.text import clean_inline_text
from crawler.vocabulary import ORIGINAL_TITLE_LABEL

if TYPE_CHECKING:
    from collections.abc import Iterable

# Site names that pages append to their <title>; matched after a separator (_ - | –). A source's
# own names are its own (``crawler/sources/<site>/cleaning.py``); the stage adds them.
SITE_SUFFIXES: tuple[str, ...] = (
    "中国市场监管新闻网", "中国市场监管报",
    "新浪财经", "新浪网", "新浪", "网易", "网易新闻", "腾讯新闻", "腾讯网", "凤凰网", "凤凰财经",
    "新华网", "人民网", "央视网", "中国经济网", "证券时报网", "中国证券网", "中证网", "财新网",
    "界面新闻", "澎湃新闻", "第一财经", "每日经济新闻", "华尔街见闻", "和讯网", "金融界", "环球网",
    "今日头条", "搜狐", "搜狐网", "中国新闻网", "中新网", "光明网", "央广网", "国际在线",
)  # fmt: skip


def site_suffix_pattern(names: Iterable[str]) -> re.Pattern[str]:
    """Return the pattern of a ``_name`` (``- name``, ``|name``) suffix for any of ``names``."""
    return re.compile(r"\s*(?:[_|｜–—]|\s-\s|-)\s*(?:" + "|".join(map(re.escape, names)) + r")\s*$")


SITE_SUFFIX = site_suffix_pattern(SITE_SUFFIXES)
# Full-width ASCII letters and digits only: Chinese punctuation (，！？：) stays as it is.
_FULLWIDTH_ALNUM = {
    **{cp: cp - 0xFEE0 for cp in range(0xFF10, 0xFF1A)},
    **{cp: cp - 0xFEE0 for cp in range(0xFF21, 0xFF3B)},
    **{cp: cp - 0xFEE0 for cp in range(0xFF41, 0xFF5B)},
}
ELLIPSIS = "…"


def strip_site_suffix(title: str, suffix: re.Pattern[str] = SITE_SUFFIX) -> str:
    """Remove trailing ``_新浪财经``-style site names (repeatedly), never the whole title.

    ``suffix`` is a :func:`site_suffix_pattern` of the site names to remove.
    """
    while True:
        shorter = suffix.sub("", title)
        if shorter == title or not shorter:
            return title
        title = shorter


def normalize_title(
    raw: str | None, max_length: int = 200, suffix: re.Pattern[str] = SITE_SUFFIX
) -> str | None:
    """Return a clean headline, or ``None`` when nothing usable is left.

    Site names matched by ``suffix`` (a :func:`site_suffix_pattern`) are cut off its end.
    """
    if not raw:
        return None
    title = clean_inline_text(raw).translate(_FULLWIDTH_ALNUM)
    title = strip_site_suffix(title, suffix)
    if not title:
        return None
    if len(title) > max_length:
        title = title[: max_length - 1].rstrip() + ELLIPSIS
    return title


_ORIGINAL_TITLE_LABEL = re.compile(rf"^\s*{ORIGINAL_TITLE_LABEL}\s*")


def normalize_original_title(
    raw: str | None, max_length: int = 200, suffix: re.Pattern[str] = SITE_SUFFIX
) -> str | None:
    """Return the ``原标题：…`` headline without its label (see :func:`normalize_title`)."""
    if not raw:
        return None
    text = _ORIGINAL_TITLE_LABEL.sub("", clean_inline_text(raw))
    return normalize_title(text, max_length, suffix)
