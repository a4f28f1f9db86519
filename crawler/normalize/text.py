"""Inline text cleaning shared by the stages that read short strings (titles, names)."""

from __future__ import annotations

import html
import re

# Only what looks like a tag: "3<5 且 6>4" in a headline is text, not markup.
_TAG_RE = re.compile(r"</?[A-Za-z][^<>]*>|<!--.*?-->", re.S)
_SPACE_RE = re.compile(r"\s+")
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u2028\u2029\u2060\ufeff]")
# What no text may hold: C0 controls but tab and newlines, DEL, non-characters, lone surrogates
# (a feed cut in the middle of an emoji). lxml and BSON both refuse them.
_UNSTORABLE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


def scrub(text: str) -> str:
    """Remove the characters that no stored text may hold (controls, lone surrogates)."""
    return _UNSTORABLE_RE.sub("", text)


def clean_inline_text(text: str) -> str:
    """Strip tags, unescape entities, drop invisible characters and collapse all whitespace."""
    text = html.unescape(_TAG_RE.sub("", scrub(text)))
    text = scrub(_INVISIBLE_RE.sub("", text))
    return _SPACE_RE.sub(" ", text).strip()
