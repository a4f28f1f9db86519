"""Several writers storing the same stories at the same time, on the wire: one document per
story, every sighting recorded (crawler/store/writer.py, ``ArticleStore._settle``)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest
from itemadapter import ItemAdapter

from crawler.store.mongo import StorageConfig, release_client
from crawler.store.writer import Record, open_store
from tests.conftest import ROOT, make_crawler
from tests.integration.writer import STORIES, copies
from tests.storage_support import FETCHED, article, later

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from crawler.store.writer import ArticleStore

pytestmark = pytest.mark.integration


class RaceFirst:
    """A collection whose first bulk write lets ``first`` run before it: a race, made certain."""

    def __init__(self, collection: Any, first: Callable[[], Any]) -> None:
        self.collection = collection
        self.first: Callable[[], Any] | None = first

    def __getattr__(self, name: str) -> Any:
        return getattr(self.collection, name)

    def bulk_write(self, *args: Any, **kwargs: Any) -> Any:
        if self.first is not None:
            first, self.first = self.first, None
            first()
        return self.collection.bulk_write(*args, **kwargs)


def two_writers(settings: dict[str, Any]) -> tuple[ArticleStore, ArticleStore, StorageConfig]:
    config = StorageConfig.from_settings(make_crawler(**settings).settings)
    return open_store(config), open_store(config), config


def test_a_story_both_writers_insert_at_once_is_stored_once(
    settings: dict[str, Any], collection: Any
) -> None:
    """Writer A has resolved its batch (nothing stored) when writer B stores the same stories."""
    mirror = "https://mirror.example.com/a/{}.html"
    ours = [
        article(1),  # exact copy under another id and URL
        article(2, body_text="另一条新闻。" * 20),  # near copy under another id and URL
        article(3, body_text="第三条新闻。" * 20),  # the same id and URL
        article(4, body_text="第四条新闻。" * 20),  # the same URL under another id
    ]
    theirs = [
        article(1, id="mirror:1", url=mirror.format(1), canonical_url=mirror.format(1)),
        article(
            2,
            id="mirror:2",
            url=mirror.format(2),
            canonical_url=mirror.format(2),
            body_text="另一条新闻。" * 20 + "（财联社）",
        ),
        article(3, body_text="第三条新闻。" * 20),
        article(4, id="mirror:4", body_text="第四条新闻。" * 20),
    ]
    a, b, config = two_writers(settings)
    b_result: list[Counter[str]] = []
    a.collection = RaceFirst(
        a.collection,
        lambda: b_result.append(
            b.write([Record(ItemAdapter(i).asdict(), later(1)) for i in theirs]).counts
        ),
    )
    a_counts = a.write([Record(ItemAdapter(i).asdict(), FETCHED) for i in ours]).counts
    release_client(config)
    release_client(config)

    # B stored first and saw nothing either. A's identity and URL twins were refused by the
    # unique indexes and resolved again; its text twins were inserted, then found and merged.
    assert b_result == [Counter(inserted=4)]
    assert a_counts == Counter(inserted=2, unchanged=2, merged=2)
    sightings = {doc["_id"]: len(doc["sightings"]) for doc in collection.find()}
    # The older copy (A's, first seen earlier) keeps the story; B's sightings moved into it.
    assert sightings == {ours[0].id: 2, ours[1].id: 2, ours[2].id: 1, "mirror:4": 2}


@pytest.mark.e2e
@pytest.mark.parametrize("writers", [2, 4])
def test_writer_processes_store_each_story_once(
    writers: int, settings: dict[str, Any], collection: Any, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.writer",
                settings["NEWS_MONGO_URI"],
                settings["NEWS_MONGO_DATABASE"],
                str(writer),
                str(go),
                str(tmp_path / f"{writer}.json"),
            ],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for writer in range(writers)
    ]
    go.touch()
    for process in processes:
        _, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors[-3000:]
    counts = sum(
        (Counter(json.loads((tmp_path / f"{w}.json").read_text())) for w in range(writers)),
        Counter(),
    )
    documents = list(collection.find())
    assert len(documents) == STORIES
    assert counts["inserted"] - counts["merged"] == STORIES
    assert counts["spooled"] == counts["rejected"] == 0
    expected = {
        (sighting["id"], sighting["url"])
        for writer in range(writers)
        for sighting in ({"id": i.id, "url": i.canonical_url} for i in copies(writer))
    }
    recorded = [(s["id"], s["url"]) for doc in documents for s in doc["sightings"]]
    assert len(recorded) == len(set(recorded))
    # On FerretDB, whose updates are not atomic, only because the writers take leases.
    assert sorted(recorded) == sorted(expected)
