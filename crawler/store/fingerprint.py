"""Content fingerprints: the exact hash and the 64-bit SimHash of an article's text, with bands.

The exact hash reads the text NFKC-folded, lower-cased and without whitespace, so markup and
spacing differences between feeds do not matter. The SimHash reads character 4-grams of the
letters and digits only. Both choices and the default distance are measured on the original
system's duplicate groups (``tests/store/test_dedupe.py``; docs/storage.md).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import deque
from itertools import repeat

SHINGLE_SIZE = 4
#: Texts with fewer letters and digits are matched exactly, never as near duplicates: in a
#: 7x24 flash one changed character is another fact (北向资金净流入超40亿 vs 超50亿).
NEAR_DUP_MIN_CHARS = 50
_BITS = 64
_MASK = (1 << _BITS) - 1
_DIGEST_BYTES = _BITS // 8
#: Anything but a letter or a digit. ``[^\W_]`` is exactly Unicode categories L* and N* (a test
#: checks every code point), and one regex pass is four times faster than a category per character.
_NOT_LETTERS = re.compile(r"[\W_]+")
_BLAKE2B = hashlib.blake2b
#: An empty hasher for the shingles' 8-byte digests, copied for each shingle.
_SHINGLE_HASHER = _BLAKE2B(digest_size=_DIGEST_BYTES)
#: Shingles hashed at a time (bounds the hashers alive at once).
_CHUNK = 4096


def normalise_text(text: str) -> str:
    """Return ``text`` NFKC-folded and lower-cased, without any whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def content_hash(text: str) -> str:
    """Return the SHA-1 (hex) of the normalised text: equal for the same story in any markup."""
    return hashlib.sha1(normalise_text(text).encode("utf-8")).hexdigest()


def letters(text: str) -> str:
    """Return the letters and digits of the normalised text (what the SimHash reads)."""
    return _NOT_LETTERS.sub("", normalise_text(text))


def _shingle_digests(chars: str) -> bytes:
    """Return the 8-byte blake2b digest of every shingle's UTF-8, concatenated in order.

    A digest read big-endian is the shingle's 64-bit feature; a text shorter than a shingle is
    its own one shingle. Per shingle only C code runs but for the slice: a copy of a hasher
    already set up for 8-byte digests (a third of the cost of a constructor with keyword
    arguments), its update and its digest, chained by map(). Shingles go in chunks so that a
    very long text never holds a hasher per shingle.
    """
    count = max(1, len(chars) - SHINGLE_SIZE + 1)
    digests = []
    for first in range(0, count, _CHUNK):
        stop = min(first + _CHUNK, count)
        shingles = [chars[i : i + SHINGLE_SIZE].encode() for i in range(first, stop)]
        hashers = list(map(_BLAKE2B.copy, repeat(_SHINGLE_HASHER, len(shingles))))
        deque(map(_BLAKE2B.update, hashers, shingles), maxlen=0)  # update() returns None
        digests.append(b"".join(map(_BLAKE2B.digest, hashers)))
    return b"".join(digests)


def _majority_bits(digests: bytes) -> int:
    """Return the 64-bit value whose bit is set where more than half of the digests have it.

    This is the SimHash vote (weight +1 for a set bit, -1 for a clear one; the bit is set when
    the sum is positive), counted a byte column at a time: the column's bytes as one int, and
    per bit a popcount of that int under a mask, which costs no Python step per shingle.
    """
    count = len(digests) // _DIGEST_BYTES
    ones = int.from_bytes(b"\x01" * count, "big")
    masks = [ones << bit for bit in range(8)]
    value = 0
    for byte in range(_DIGEST_BYTES):
        column = int.from_bytes(digests[byte::_DIGEST_BYTES], "big")
        lowest = _BITS - 8 * (byte + 1)  # the digest is big-endian: byte 0 holds bits 63-56
        for bit, mask in enumerate(masks):
            if 2 * (column & mask).bit_count() > count:
                value |= 1 << (lowest + bit)
    return value


def simhash(text: str) -> int:
    """Return the 64-bit SimHash of ``text``'s character 4-grams as a signed int64 (BSON long).

    Each shingle's feature is its 8-byte blake2b digest read big-endian; bit ``i`` of the
    SimHash is set when more shingles have bit ``i`` set than clear (a tie leaves it clear).
    The readable per-shingle loop that defines it is kept in ``tests/store/test_fingerprint.py``.
    """
    value = _majority_bits(_shingle_digests(letters(text)))
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
