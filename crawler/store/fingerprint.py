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


def _blocks(value: int, count: int) -> list[int]:
    """Cut a SimHash's 64 bits (low bits first) into ``count`` blocks as even as can be."""
    unsigned = value & _MASK
    blocks = []
    start = 0
    for index in range(count):
        width = _BITS // count + (1 if index < _BITS % count else 0)
        blocks.append(unsigned >> start & ((1 << width) - 1))
        start += width
    return blocks


def simhash_bands(value: int, distance: int) -> list[str]:
    """Return a SimHash's index keys: two SimHashes within ``distance`` bits share at least one.

    The 64 bits are cut into ``distance + 2`` blocks. Two hashes that differ in at most
    ``distance`` bits differ in at most ``distance`` blocks, so two blocks at least agree
    (pigeonhole); each key names a pair of blocks, ``<blocks>p:<i>.<j>:<hex>.<hex>``. A key of
    one block (``distance + 1`` bands, :func:`legacy_bands`) is only 7 bits wide at distance 8:
    an unrelated story shares one with probability 1/15, so every lookup returned that share of
    the dedupe window. A pair of blocks is 12 to 14 bits wide: 45 keys, shared by chance with
    probability 1/140.
    """
    count = distance + 2
    blocks = _blocks(value, count)
    return [
        f"{count}p:{i}.{j}:{blocks[i]:x}.{blocks[j]:x}"
        for i in range(count)
        for j in range(i + 1, count)
    ]


def legacy_bands(value: int, distance: int) -> list[str]:
    """Return the one-block keys earlier finews stored (``distance + 1`` blocks, each keyed
    ``<bands>:<index>:<hex>``; two SimHashes within ``distance`` bits share at least one).
    Lookups ask for these too, so the stories stored with them are still found."""
    count = distance + 1
    return [f"{count}:{index}:{block:x}" for index, block in enumerate(_blocks(value, count))]
