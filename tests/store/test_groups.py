"""Each duplicates.tsv group through the real normalisation chain and the storage pipeline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import make_crawler
from tests.storage_support import (
    duplicate_groups,
    mongo_client,
    normalisation_chain,
    open_pipeline,
    post_article,
    storage_settings,
)
from tests.store.test_dedupe import EXPECTED_DOCUMENTS

if TYPE_CHECKING:
    from pathlib import Path

GROUPS = duplicate_groups()


@pytest.fixture(scope="module")
def articles() -> dict[str, list[Any]]:
    chain = normalisation_chain()
    return {g: [post_article(chain, name) for name in names] for g, (_, names) in GROUPS.items()}


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_group_is_stored_as_expected(
    group: str, articles: dict[str, list[Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = mongo_client(monkeypatch)
    crawler = make_crawler(**storage_settings(client, tmp_path))
    pipeline = open_pipeline(crawler)
    for item in articles[group]:
        pipeline.process_item(item)
    pipeline.close_spider()
    collection = client["finews"]["articles"]
    assert collection.count_documents({}) == EXPECTED_DOCUMENTS[group], GROUPS[group]
    sightings = sum(len(doc["sightings"]) for doc in collection.find())
    distinct_places = {(a.id, a.canonical_url) for a in articles[group]}
    assert sightings == len(distinct_places)
