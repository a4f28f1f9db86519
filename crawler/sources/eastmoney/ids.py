"""East Money's article ids: the 18-digit ``code``, its ``NW`` infoCode, and the URLs that hold one.

``native_id`` reads a value that *is* an id (a code, an infoCode, an article URL); ``code_in_text``
and ``code_in_link`` find one *inside* other text (an old Jekyll post's file name, its link), so
they accept more: ``2022-05-20-NW<code>``, ``…NewsShare.html?infoCode=NW<code>``, ``/<code>``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from crawler.sources.eastmoney.endpoints import ARTICLE_URL

SOURCE = "eastmoney"
INFO_CODE_PREFIX = "NW"

_CODE = r"\d{18}"
# infoCode ``NW<code>``, the bare code, ``/a/<code>.html`` and ``/news/<column>,<code>.html``.
_CODE_RE = re.compile(rf"(?:{INFO_CODE_PREFIX})?({_CODE})")
_URL_CODE_RE = re.compile(rf"/(?:a/|news/\d+,)({_CODE})\.html?$")
_CODE_IN_TEXT_RE = re.compile(rf"(?<![0-9A-Za-z])(?:{INFO_CODE_PREFIX})?({_CODE})(?!\d)")
_CODE_IN_LINK_RE = re.compile(rf"(?:infoCode={INFO_CODE_PREFIX}|[,/])({_CODE})(?:\.html)?(?!\d)")


def native_id(value: object) -> str | None:
    """Return the 18-digit article code of a code, an ``NW`` infoCode or any article URL.

    ``None`` when ``value`` holds none, an unparsable URL (``http://[x/…``) included.
    """
    if value is None:
        return None
    text = str(value).strip()
    match = _CODE_RE.fullmatch(text)
    if match:
        return match.group(1)
    if "://" not in text:
        return None
    try:
        path = urlsplit(text).path
    except ValueError:  # Invalid IPv6 URL and the like
        return None
    match = _URL_CODE_RE.search(path)
    return match.group(1) if match else None


def info_code(code: str) -> str:
    """Return the ``NW``-prefixed infoCode of an article code."""
    return f"{INFO_CODE_PREFIX}{code}"


def article_url(code: str, template: str = ARTICLE_URL) -> str:
    """Return the article page URL of a code (``template``: a ``{code}`` URL, the site's own)."""
    return template.format(code=code)


def code_in_text(text: str) -> str | None:
    """Return the first code or infoCode standing alone in ``text`` (not inside a longer word)."""
    match = _CODE_IN_TEXT_RE.search(text)
    return match.group(1) if match else None


def code_in_link(url: str) -> str | None:
    """Return the code a link names: ``infoCode=NW<code>``, or a path part ``/<code>``,
    ``,<code>`` (``.html`` or not)."""
    match = _CODE_IN_LINK_RE.search(url)
    return match.group(1) if match else None
