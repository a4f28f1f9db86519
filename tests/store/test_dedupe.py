"""Fingerprints and the default near-duplicate distance, measured on the original's duplicates."""

from __future__ import annotations

import itertools
import random
from typing import TYPE_CHECKING

import pytest

from crawler.options import OPTIONS
from crawler.store.fingerprint import (
    NEAR_DUP_MIN_CHARS,
    content_hash,
    hamming,
    legacy_bands,
    near_dup_eligible,
    normalise_text,
    simhash,
    simhash_bands,
)
from tests.storage_support import duplicate_groups, normalisation_chain, post_article

if TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_DISTANCE = OPTIONS["NEWS_DEDUPE_NEAR_DISTANCE"].default


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("离岸人民币兑美元升至6.3512。", "离岸人民币兑美元升至６．３５１２。"),
        ("第一段。\n第二段。", "  第一段。 \n\n第二段。 "),
        ("FF 91 完成投产", "ff91完成投产"),
    ],
)
def test_content_hash_ignores_spacing_width_and_case(a: str, b: str) -> None:
    assert normalise_text(a) == normalise_text(b)
    assert content_hash(a) == content_hash(b)


def test_content_hash_tells_different_text_apart() -> None:
    assert content_hash("北向资金净流入超40亿") != content_hash("北向资金净流入超50亿")
    assert len(content_hash("x")) == 40


def test_simhash_is_a_signed_int64() -> None:
    values = [
        simhash(text) for text in ("", "短", "北向资金净流入超40亿", "a" * 500, "人民币" * 90)
    ]
    assert all(-(2**63) <= value < 2**63 for value in values)
    assert simhash("同一段文字，同一个指纹。") == simhash("同一段文字, 同一个指纹.")


def test_hamming_reads_signed_values_as_64_bits() -> None:
    assert hamming(-1, 0) == 64
    assert hamming(5, 6) == 2
    assert hamming(-(2**63), 2**63 - 1) == 64


@pytest.mark.parametrize("distance", [0, 3, 8, 12])
def test_bands_pigeonhole_any_match_within_distance_shares_a_band(distance: int) -> None:
    rng = random.Random(distance)
    bands = simhash_bands(0, distance)
    assert len(bands) == (distance + 2) * (distance + 1) // 2  # every pair of distance + 2 blocks
    assert len(set(bands)) == len(bands)
    assert all(key.startswith(f"{distance + 2}p:") for key in bands)
    assert len(legacy_bands(0, distance)) == distance + 1
    for _ in range(300):
        value = rng.getrandbits(64) - 2**63
        flipped = value
        for bit in rng.sample(range(64), distance):
            flipped ^= 1 << bit
        flipped = (flipped + 2**63) % 2**64 - 2**63
        assert hamming(value, flipped) == distance
        assert set(simhash_bands(value, distance)) & set(simhash_bands(flipped, distance))
        assert set(legacy_bands(value, distance)) & set(legacy_bands(flipped, distance))


def test_bands_differ_for_far_values() -> None:
    assert not set(simhash_bands(0, 8)) & set(simhash_bands(-1, 8))
    assert not set(legacy_bands(0, 8)) & set(legacy_bands(-1, 8))


def test_pair_bands_are_shared_by_chance_ten_times_less_than_single_blocks() -> None:
    """What a lookup returns besides the real matches: unrelated stories sharing a key."""
    rng = random.Random(7)
    values = [rng.getrandbits(64) for _ in range(3000)]

    def shared_by_chance(keys: Callable[[int, int], list[str]]) -> float:
        index: dict[str, set[int]] = {}
        for n, value in enumerate(values):
            for key in keys(value, DEFAULT_DISTANCE):
                index.setdefault(key, set()).add(n)
        found = [
            len(set().union(*(index[k] for k in keys(v, DEFAULT_DISTANCE))) - {n})
            for n, v in enumerate(values)
        ]
        return sum(found) / len(found) / len(values)

    single, pairs = shared_by_chance(legacy_bands), shared_by_chance(simhash_bands)
    assert 0.05 < single < 0.08  # 1/15 of the window came back to every lookup
    assert pairs < 0.01
    assert single / pairs > 8


def test_short_flashes_are_not_near_duplicate_candidates() -> None:
    assert not near_dup_eligible("北向资金净流入超40亿元。")
    assert near_dup_eligible("字" * NEAR_DUP_MIN_CHARS)
    assert not near_dup_eligible("，。 " * 100)


# --- the default distance, on the original system's duplicate groups -------------------------

#: Documents each duplicates.tsv group must end up as (docs/storage.md: the rule per type).
EXPECTED_DOCUMENTS = {
    # The same story: one document.
    **dict.fromkeys(["G01", "G02", "G03", "G04", "G05", "G06"], 1),  # cross-feed twins
    **dict.fromkeys(["G08", "G09", "G10", "G11", "G12"], 1),  # versions of one post
    "G13": 1,  # identical body, other id
    "G14": 3,  # two identical flashes merge; two related RMB stories are their own texts
    "G25": 1,  # one text, one copy with a (财联社) tag instead of the last sentence
    # A flash and its later full report stay apart (the report is a new text, not a copy).
    "G07": 2,  # 7x24 summary vs the report (the report's two feeds merge)
    "G22": 2,
    "G16": 4,
    # Rewrites of one event by other desks, related stories, a template series: their own texts.
    **dict.fromkeys(["G15", "G18", "G19", "G20", "G21", "G23", "G24"], 2),
    "G17": 6,
    "G26": 3,
    "G27": 2,
    # Must not merge.
    "G28": 3,
}


@pytest.fixture(scope="module")
def group_texts() -> dict[str, list[str]]:
    chain = normalisation_chain()
    return {
        group: [post_article(chain, name).body_text for name in names]
        for group, (_, names) in duplicate_groups().items()
    }


def test_every_group_has_an_expectation(group_texts: dict[str, list[str]]) -> None:
    assert set(group_texts) == set(EXPECTED_DOCUMENTS)


@pytest.mark.parametrize("group", ["G01", "G02", "G03", "G04", "G05", "G08", "G09", "G10", "G13"])
def test_same_story_groups_have_one_content_hash(
    group_texts: dict[str, list[str]], group: str
) -> None:
    assert len({content_hash(text) for text in group_texts[group]}) == 1


def test_default_distance_merges_the_near_copy(group_texts: dict[str, list[str]]) -> None:
    a, b = group_texts["G25"]
    assert content_hash(a) != content_hash(b)
    assert near_dup_eligible(a)
    assert near_dup_eligible(b)
    assert hamming(simhash(a), simhash(b)) == 7 <= DEFAULT_DISTANCE


def test_default_distance_keeps_the_must_not_merge_group_apart(
    group_texts: dict[str, list[str]],
) -> None:
    distances = [
        hamming(simhash(a), simhash(b)) for a, b in itertools.combinations(group_texts["G28"], 2)
    ]
    assert sorted(distances) == [30, 34, 36]
    assert min(distances) > DEFAULT_DISTANCE * 3


@pytest.mark.parametrize(("group", "closest"), [("G07", 19), ("G22", 21), ("G16", 22)])
def test_flash_and_full_report_are_far_apart(
    group_texts: dict[str, list[str]], group: str, closest: int
) -> None:
    texts = group_texts[group]
    distances = [
        hamming(simhash(a), simhash(b))
        for a, b in itertools.combinations(texts, 2)
        if content_hash(a) != content_hash(b)
    ]
    assert min(distances) == closest > DEFAULT_DISTANCE
