"""Text cleaning shared by every stage: the one scrub of what no stored text may hold, and the
inline cleaning of short strings (titles, names)."""

from __future__ import annotations

import html
import re
from typing import Any

# Only what looks like a tag: "3<5 且 6>4" in a headline is text, not markup.
_TAG_RE = re.compile(r"</?[A-Za-z][^<>]*>|<!--.*?-->", re.S)
_SPACE_RE = re.compile(r"\s+")
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u2028\u2029\u2060\ufeff]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# What no text may hold: C0 controls but tab and newlines, DEL, non-characters, lone surrogates
# (a feed cut in the middle of an emoji; lxml, BSON and UTF-8 refuse them), and U+FFFD, the mark
# a decoder or HTML parser left where a character (often a NUL) was lost: it carries nothing.
_UNSTORABLE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\ufffe\uffff\ud800-\udfff]")


def scrub(text: str) -> str:
    """Remove the characters that no stored text may hold (controls, lone surrogates, U+FFFD).

    A surrogate pair (text decoded with ``surrogatepass``) becomes the character it stands for.
    """
    if _SURROGATE_RE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return _UNSTORABLE_RE.sub("", text)


def scrub_value(value: Any) -> Any:
    """Return ``value`` with :func:`scrub` applied to every string in it (lists, dicts too)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list | tuple):
        return type(value)(scrub_value(item) for item in value)
    if isinstance(value, dict):
        return {scrub_value(key): scrub_value(item) for key, item in value.items()}
    return value


def reads_as_name(text: str) -> bool:
    """Tell whether ``text`` can name someone: it holds at least one letter (any script)."""
    return any(character.isalpha() for character in text)


def clean_inline_text(text: str) -> str:
    """Strip tags, unescape entities, drop invisible characters and collapse all whitespace."""
    text = html.unescape(_TAG_RE.sub("", scrub(text)))
    text = scrub(_INVISIBLE_RE.sub("", text))
    return _SPACE_RE.sub(" ", text).strip()
