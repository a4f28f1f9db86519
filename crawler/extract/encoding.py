"""Decide how to decode a page: BOM, HTTP header, <meta>, then the bytes themselves.

A declared charset is only trusted when the bytes agree with it: many Chinese pages declare gb2312
but are served as UTF-8. gb2312 and gbk labels resolve to gb18030, their superset.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from charset_normalizer import from_bytes
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

logger = logging.getLogger(__name__)

UTF8 = "utf-8"
# Codecs that decode any byte string, so the bytes can never contradict them.
CATCH_ALL_CODECS = frozenset({"cp1252", "latin-1", "iso8859-1", "ascii"})
# Replacement characters tolerated per non-ASCII byte before a codec is judged wrong
# (real GBK pages carry a few private-use or broken characters).
BAD_CHAR_RATIO = 0.002
BAD_CHAR_FLOOR = 2
ASCII_BYTES = bytes(range(0x80))


def header_value(headers: Mapping[str, str | bytes] | None, name: str) -> str | None:
    """Return a header's value as text, matching the name case-insensitively."""
    if not headers:
        return None
    for key, value in headers.items():
        key_text = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if key_text.lower() == name.lower():
            if isinstance(value, list | tuple):
                value = value[-1] if value else ""
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return None


def count_bad_chars(body: bytes, codec: str) -> int:
    """Return how many characters of `body` fail to decode with `codec`."""
    try:
        body.decode(codec)
    except UnicodeDecodeError:
        return body.decode(codec, "replace").count("\ufffd")
    except LookupError:
        return len(body)
    return 0


def fits(body: bytes, codec: str, non_ascii: int) -> bool:
    """Tell whether `codec` decodes `body` with at most a few errors."""
    return count_bad_chars(body, codec) <= BAD_CHAR_FLOOR + BAD_CHAR_RATIO * non_ascii


def declared_encodings(body: bytes, headers: Mapping[str, str | bytes] | None) -> list[str]:
    """Return the charsets declared by the HTTP header and the page's <meta>, in that order."""
    found = [
        http_content_type_encoding(header_value(headers, "Content-Type")),
        html_body_declared_encoding(body),
    ]
    codecs = list(dict.fromkeys(codec for codec in found if codec))
    # A catch-all header charset is usually a server default: let <meta> speak first.
    if len(codecs) > 1 and codecs[0] in CATCH_ALL_CODECS:
        codecs.append(codecs.pop(0))
    return codecs


def guess_encoding(body: bytes) -> str | None:
    """Return charset-normalizer's best guess for undeclared, non-UTF-8 bytes."""
    best = from_bytes(body[:65536]).best()
    return resolve_encoding(best.encoding) if best is not None else None


def detect_encoding(body: bytes, headers: Mapping[str, str | bytes] | None = None) -> str:
    """Return the Python codec name to decode an HTML `body` with."""
    bom_codec, _ = read_bom(body)
    if bom_codec:
        return resolve_encoding(bom_codec) or UTF8
    if body.isascii():
        return UTF8
    if count_bad_chars(body, UTF8) == 0:
        # Bytes that are valid UTF-8 are UTF-8, whatever a header or <meta> declares: many
        # Chinese pages declare gb2312 and are served as UTF-8.
        return UTF8
    non_ascii = len(body.translate(None, ASCII_BYTES))
    for codec in declared_encodings(body, headers):
        if fits(body, codec, non_ascii):
            return codec
    if fits(body, UTF8, non_ascii):
        return UTF8
    return guess_encoding(body) or UTF8


def decode_body(body: bytes, headers: Mapping[str, str | bytes] | None = None) -> tuple[str, str]:
    """Return (text, codec) for an HTML `body`, replacing undecodable bytes."""
    codec = detect_encoding(body, headers)
    bom_codec, bom = read_bom(body)
    data = body[len(bom) :] if bom_codec and bom else body
    return data.decode(codec, "replace"), codec
