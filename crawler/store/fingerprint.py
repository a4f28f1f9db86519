"""Content fingerprints: the exact hash and the 64-bit SimHash of an article's text, with bands.

The exact hash reads the text NFKC-folded, lower-cased and without whitespace, so markup and
spacing differences between feeds do not matter. The SimHash reads character 4-grams of the
letters and digits only. Both choices and the default distance are measured on the original
system's duplicate groups (``tests/store/test_dedupe.py``; docs/storage.md).
"""

from __future__ import annotations

import hashlib
import unicodedata

SHINGLE_SIZE = 4
#: Texts with fewer letters and digits are matched exactly, never as near duplicates: in a
#: 7x24 flash one changed character is another fact (北向资金净流入超40亿 vs 超50亿).
NEAR_DUP_MIN_CHARS = 50
_BITS = 64
_MASK = (1 << _BITS) - 1


def normalise_text(text: str) -> str:
    """Return ``text`` NFKC-folded and lower-cased, without any whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def content_hash(text: str) -> str:
    """Return the SHA-1 (hex) of the normalised text: equal for the same story in any markup."""
    return hashlib.sha1(normalise_text(text).encode("utf-8")).hexdigest()


def letters(text: str) -> str:
    """Return the letters and digits of the normalised text (what the SimHash reads)."""
    return "".join(c for c in normalise_text(text) if unicodedata.category(c)[0] in "LN")


def _feature_hash(shingle: str) -> int:
    """Return a 64-bit hash of one shingle."""
    return int.from_bytes(hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest(), "big")


def simhash(text: str) -> int:
    """Return the 64-bit SimHash of ``text``'s character 4-grams as a signed int64 (BSON long)."""
    chars = letters(text)
    weights = [0] * _BITS
    for start in range(max(1, len(chars) - SHINGLE_SIZE + 1)):
        feature = _feature_hash(chars[start : start + SHINGLE_SIZE])
        for bit in range(_BITS):
            weights[bit] += 1 if feature >> bit & 1 else -1
    value = sum(1 << bit for bit, weight in enumerate(weights) if weight > 0)
    return value - (1 << _BITS) if value >> (_BITS - 1) else value


def hamming(a: int, b: int) -> int:
    """Return the number of bits in which two 64-bit SimHashes (signed or not) differ."""
    return ((a ^ b) & _MASK).bit_count()


def near_dup_eligible(text: str) -> bool:
    """Tell whether ``text`` is long enough for near-duplicate matching."""
    return len(letters(text)) >= NEAR_DUP_MIN_CHARS


def simhash_bands(value: int, distance: int) -> list[str]:
    """Split a SimHash into ``distance + 1`` bands, each keyed ``<bands>:<index>:<hex value>``.

    By the pigeonhole principle two SimHashes within ``distance`` bits agree on at least one band,
    so an index on the bands finds every candidate without scanning the collection.
    """
    count = distance + 1
    unsigned = value & _MASK
    keys = []
    start = 0
    for index in range(count):
        width = _BITS // count + (1 if index < _BITS % count else 0)
        chunk = unsigned >> start & ((1 << width) - 1)
        keys.append(f"{count}:{index}:{chunk:x}")
        start += width
    return keys
