"""The SimHash against its definition: the readable per-shingle loop it replaced, kept here.

``crawler/store/fingerprint.py`` computes the same 64-bit values more than ten times faster,
without a Python step per shingle and bit (bench/README.md). Every stored ``simhash`` and
``simhash_bands`` and the near-duplicate distance were measured with the loop below, so the two
must agree exactly: on the texts of every fixture, on the bodies the other storage tests use,
and on random texts.
"""

from __future__ import annotations

import hashlib
import random
import sys
import unicodedata

import lxml.etree
import lxml.html
import pytest

from crawler.store.fingerprint import letters, normalise_text, simhash
from tests.conftest import FIXTURES
from tests.storage_support import BODY_TEXT, duplicate_groups, normalisation_chain, post_article

# --- the definition ---------------------------------------------------------------------------


def reference_letters(text: str) -> str:
    """The letters and digits (Unicode categories L* and N*) of the normalised text."""
    return "".join(c for c in normalise_text(text) if unicodedata.category(c)[0] in "LN")


def reference_simhash(text: str) -> int:
    """The SimHash as first written: every character 4-gram votes on each of the 64 bits.

    A shingle's feature is the blake2b digest (8 bytes) of its UTF-8 read big-endian; a set bit
    votes +1, a clear one -1, and a bit of the result is set when its votes sum above zero.
    A text shorter than a shingle is its own one shingle. The result is a signed int64.
    """
    chars = reference_letters(text)
    weights = [0] * 64
    for start in range(max(1, len(chars) - 4 + 1)):
        shingle = chars[start : start + 4]
        digest = hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest()
        feature = int.from_bytes(digest, "big")
        for bit in range(64):
            weights[bit] += 1 if feature >> bit & 1 else -1
    value = sum(1 << bit for bit, weight in enumerate(weights) if weight > 0)
    return value - (1 << 64) if value >> 63 else value


# --- the texts --------------------------------------------------------------------------------

UTF8_HTML = lxml.html.HTMLParser(encoding="utf-8")


def fixture_text(path: str) -> str:
    """Return a fixture file's text: an HTML page's text content (scripts, styles and comments
    left out, as no body text holds them), any other file as it is. Pages are UTF-8 or GBK."""
    raw = (FIXTURES / path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    if not path.endswith(".html") or not text.strip():
        return text
    tree = lxml.html.document_fromstring(text.encode("utf-8"), parser=UTF8_HTML)
    lxml.etree.strip_elements(tree, "script", "style", lxml.etree.Comment, with_tail=False)
    return lxml.etree.tostring(tree, method="text", encoding="unicode")


FIXTURE_FILES = sorted(
    str(path.relative_to(FIXTURES))
    for suffix in ("html", "md", "json", "txt")
    for path in FIXTURES.rglob(f"*.{suffix}")
)

#: What random texts are drawn from: common and rare (4-byte UTF-8) CJK, ASCII letters and
#: digits, full-width forms and ligatures that NFKC folds, punctuation, spaces, other scripts,
#: combining marks, emoji and a lone surrogate (none of which the SimHash reads).
ALPHABETS: list[tuple[int, str]] = [
    (40, "".join(map(chr, range(0x4E00, 0x9FFF)))),
    (2, "".join(map(chr, range(0x20000, 0x20400)))),
    (15, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
    (12, "0123456789"),
    (3, "ＡＢＣｘｙｚ０１２３４５６７８９ﬁﬂ①②㈱"),
    (12, "，。、；：？！“”‘’（）《》【】—…·,.;:?!'\"()[]-_/%+&@#"),
    (8, " \t\n\u3000\xa0"),
    (3, "αβγΩДжЯ한국어ひらがなカタカナéüçİẞ"),
    (1, "\u0301\u0308\u200b\ufe0f😀📈\ud800"),
]


def random_text(rng: random.Random) -> str:
    """Return a random text: mostly short and medium, some long, a few very long."""
    draw = rng.random()
    if draw < 0.15:
        length = rng.randint(0, 6)  # empty, or fewer letters than a shingle
    elif draw < 0.975:
        length = rng.randint(7, 40)
    elif draw < 0.9995:
        length = rng.randint(40, 2000)
    else:
        length = rng.randint(15_000, 20_000)  # shingles in more than one chunk
    weights, alphabets = zip(*ALPHABETS, strict=True)
    runs = []
    while length > 0:
        alphabet = rng.choices(alphabets, weights)[0]
        run = min(length, rng.randint(1, 12))
        runs.append("".join(rng.choice(alphabet) for _ in range(run)))
        length -= run
    return "".join(runs)


# --- the tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FIXTURE_FILES)
def test_simhash_equals_the_definition_on_every_fixture(path: str) -> None:
    text = fixture_text(path)
    assert simhash(text) == reference_simhash(text)


def test_fixture_files_are_found() -> None:
    suffixes = {path.rsplit(".", 1)[1] for path in FIXTURE_FILES}
    assert suffixes == {"html", "md", "json", "txt"}
    assert len(FIXTURE_FILES) > 200


def test_simhash_equals_the_definition_on_the_storage_tests_bodies() -> None:
    chain = normalisation_chain()
    names = [name for _, members in duplicate_groups().values() for name in members]
    bodies = [BODY_TEXT] + [post_article(chain, name).body_text or "" for name in names]
    assert len(bodies) > 60
    for body in bodies:
        assert simhash(body) == reference_simhash(body), body[:80]


def test_simhash_equals_the_definition_on_10000_random_texts() -> None:
    rng = random.Random(20261202)
    texts = [random_text(rng) for _ in range(10_000)]
    sizes = [len(reference_letters(text)) for text in texts]
    # The draw covers what it claims: texts under a shingle, medium, long and several chunks.
    assert sum(size < 4 for size in sizes) > 1000
    assert sum(size >= 1000 for size in sizes) > 50
    assert max(sizes) > 2 * 4096
    for text in texts:
        assert simhash(text) == reference_simhash(text), text[:80]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "，。 \n",
        "a",
        "数",
        "ab",
        "A股",
        "abc",
        "6.3元",
        "abcd",
        "abcde",
        "ｆｆ９１",
        "𠀀𠀁𠀂𠀃𠀄",
    ],
)
def test_simhash_equals_the_definition_on_short_texts(text: str) -> None:
    assert simhash(text) == reference_simhash(text)


def test_text_without_letters_hashes_the_empty_shingle() -> None:
    empty = int.from_bytes(hashlib.blake2b(b"", digest_size=8).digest(), "big", signed=True)
    assert simhash("") == simhash("，。！ \n") == empty


def test_two_shingles_set_only_the_bits_both_have() -> None:
    # Two shingles tie on every bit where they differ: a tie leaves the bit clear.
    first, second = (
        int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big")
        for s in ("abcd", "bcde")
    )
    assert simhash("abcde") & (1 << 64) - 1 == first & second


def test_letters_keeps_exactly_the_letter_and_digit_categories_of_every_code_point() -> None:
    # Newlines keep each code point from composing with its neighbour under NFKC.
    every = "\n".join(map(chr, range(sys.maxunicode + 1)))
    assert letters(every) == reference_letters(every)
