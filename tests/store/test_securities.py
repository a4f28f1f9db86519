"""A story's securities across its sightings: each sighting adds, none removes, ``via`` merged
per ``secid``; on mongomock and on the wire (FerretDB, or ``MONGO_URI``)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pymongo
import pytest

from crawler.store.documents import merge_securities
from crawler.store.mongo import prepare_collection
from crawler.store.writer import ArticleStore, Record, WriteResult, add_security, add_topic
from tests.storage_support import FETCHED, PUBLISHED, article, later, mongo_client

if TYPE_CHECKING:
    from collections.abc import Iterator


def sec(secid: str, via: str, name: str | None = None) -> dict[str, Any]:
    """A stored security entry (market and code as the parser makes them)."""
    number, code = secid.split(".")
    market = {"0": "SZ", "1": "SH", "116": "HK", "90": "BK"}[number]
    return {"secid": secid, "code": code, "market": market, "name": name, "via": [via]}


@pytest.mark.parametrize(
    ("lists", "expected"),
    [
        ([[], []], []),
        (
            [[sec("1.600519", "feed")], [sec("1.600519", "body", "贵州茅台")]],
            [{**sec("1.600519", "body", "贵州茅台"), "via": ["body", "feed"]}],
        ),
        (
            [[sec("1.600519", "body", "贵州茅台")], [sec("1.600519", "listing", "茅台")]],
            [{**sec("1.600519", "body", "贵州茅台"), "via": ["body", "listing"]}],
        ),
        (
            [[sec("0.002594", "feed")], [sec("1.600519", "feed"), sec("0.002594", "feed")]],
            [sec("0.002594", "feed"), sec("1.600519", "feed")],
        ),
        # an entry without a secid (a hand-edited document) is left out
        (
            [[{"code": "600519", "via": ["body"]}], [sec("1.600519", "body")]],
            [sec("1.600519", "body")],
        ),
    ],
)
def test_merge_securities(lists: list[list[dict[str, Any]]], expected: Any) -> None:
    assert merge_securities(*lists) == expected


@pytest.fixture(params=["mongomock", "wire"])
def collection(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An empty article collection, with its indexes, on mongomock or on a server."""
    if request.param == "mongomock":
        database = mongo_client(monkeypatch)["finews"]
        yield database["articles"]
        return
    uri = request.getfixturevalue("mongo_uri")
    client: Any = pymongo.MongoClient(uri, tz_aware=True)
    database = client[f"finews_test_{uuid.uuid4().hex[:8]}"]
    prepare_collection(database, "articles", validator=True)
    yield database["articles"]
    client.drop_database(database.name)
    client.close()


def write(collection: Any, *items: Any, minutes: float = 0) -> dict[str, int]:
    """Write ``items`` in one batch seen ``minutes`` after the first fetch; return the counts."""
    store = ArticleStore(collection, distance=3, window=timedelta(hours=48))
    seen = later(minutes) if minutes else FETCHED
    result = store.write([Record(dataclasses.asdict(item), seen) for item in items])
    assert not result.rejected
    return dict(result.counts)


def stored(collection: Any, number: int = 1) -> list[dict[str, Any]]:
    return collection.find_one({"_id": f"eastmoney:2026112600000{number:05d}"})["securities"]


def test_a_new_story_keeps_its_securities(collection: Any) -> None:
    write(collection, article(1, securities=[sec("1.600519", "feed"), sec("0.002594", "feed")]))
    assert stored(collection) == [sec("1.600519", "feed"), sec("0.002594", "feed")]


def test_a_sighting_adds_securities_and_via_never_removes(collection: Any) -> None:
    write(collection, article(1, securities=[sec("1.600519", "feed"), sec("0.002594", "feed")]))
    # The same story from a column page: its body links name one of them, and a third.
    counts = write(
        collection,
        article(1, securities=[sec("1.600519", "body", "贵州茅台"), sec("116.01211", "body")]),
        minutes=5,
    )
    assert counts == {"unchanged": 1}
    assert stored(collection) == [
        {**sec("1.600519", "body", "贵州茅台"), "via": ["body", "feed"]},
        sec("0.002594", "feed"),
        sec("116.01211", "body"),
    ]
    # A sighting naming none keeps them all.
    write(collection, article(1), minutes=10)
    assert len(stored(collection)) == 3


def test_a_changed_story_unions_rather_than_overwrites(collection: Any) -> None:
    write(collection, article(1, securities=[sec("1.600519", "feed")]))
    changed = article(
        1, body_text="更正后的正文。" * 20, securities=[sec("0.002594", "body", "比亚迪")]
    )
    assert write(collection, changed, minutes=5) == {"updated": 1}
    assert [s["secid"] for s in stored(collection)] == ["1.600519", "0.002594"]
    doc = collection.find_one({"_id": "eastmoney:202611260000000001"})
    assert doc["revision"] == 2


def test_two_sightings_in_one_batch_merge_before_the_insert(collection: Any) -> None:
    counts = write(
        collection,
        article(1, securities=[sec("1.600519", "feed")]),
        article(1, securities=[sec("1.600519", "listing")]),
    )
    assert counts == {"inserted": 1, "unchanged": 1}
    assert stored(collection) == [{**sec("1.600519", "feed"), "via": ["feed", "listing"]}]


def test_a_copy_under_another_id_adds_to_the_story(collection: Any) -> None:
    write(collection, article(1, securities=[sec("1.600519", "feed")]))
    copy = article(
        2,
        url="https://stock.eastmoney.com/a/202611260000000002.html",
        canonical_url="https://stock.eastmoney.com/a/202611260000000002.html",
        securities=[sec("0.002594", "body", "比亚迪")],
    )
    assert write(collection, copy, minutes=5) == {"duplicate_exact": 1}
    assert [s["secid"] for s in stored(collection)] == ["1.600519", "0.002594"]
    assert collection.count_documents({}) == 1


def test_a_story_stored_before_securities_takes_them(collection: Any) -> None:
    write(collection, article(1))
    collection.update_one({}, {"$unset": {"securities": ""}})  # a schema-2 document
    write(collection, article(1, securities=[sec("90.BK1036", "body", "半导体")]), minutes=5)
    assert stored(collection) == [sec("90.BK1036", "body", "半导体")]


def test_nothing_new_writes_no_securities(collection: Any) -> None:
    write(collection, article(1, securities=[sec("1.600519", "feed")]))
    store = ArticleStore(collection, distance=3, window=timedelta(hours=48))
    again = article(1, securities=[sec("1.600519", "feed")])
    stories = store._resolve([Record(dataclasses.asdict(again), later(5))], WriteResult())
    assert "securities" not in stories[0].changes


def test_a_concurrent_copy_merged_away_leaves_its_securities(collection: Any) -> None:
    store = ArticleStore(collection, distance=3, window=timedelta(hours=48))
    write(collection, article(1, securities=[sec("1.600519", "feed")]))
    newer = dataclasses.replace(
        article(2, securities=[sec("0.002594", "body")]),
        url="https://stock.eastmoney.com/a/x.html",
        canonical_url="https://stock.eastmoney.com/a/x.html",
    )
    # As another writer inserts it at the same moment, unaware of the first.
    collection.insert_one(
        {
            "_id": newer.id,
            "securities": newer.securities,
            "sightings": [{"id": newer.id}],
            "last_seen_at": later(1),
        }
    )
    document = collection.find_one({"_id": newer.id})
    assert store._merge(document, "eastmoney:202611260000000001")
    assert [s["secid"] for s in stored(collection)] == ["1.600519", "0.002594"]


@pytest.fixture
def stories(collection: Any) -> Any:
    """Three stories (two about 贵州茅台, one three days older), the first seen on two feeds."""
    moutai = sec("1.600519", "body", "贵州茅台")
    write(
        collection,
        article(1, securities=[moutai, sec("0.002594", "feed")]),
        article(2, body_text="第二篇。" * 30, securities=[moutai]),
        article(3, body_text="第三篇。" * 30, published_at=PUBLISHED - timedelta(days=3)),
    )
    # The first story again, from another feed under another code: the same text.
    copy = "https://finance.eastmoney.com/a/202611260000000004.html"
    write(collection, article(4, feed="724", url=copy, canonical_url=copy), minutes=5)
    return collection


# docs/storage.md, "Securities": the queries it documents, on each server.
SINCE = PUBLISHED - timedelta(days=1)


def test_query_one_stock_since_a_time(stories: Any) -> None:
    found = stories.find(
        {"securities.secid": "1.600519", "published_at": {"$gte": SINCE}},
        {"title": 1, "published_at": 1, "securities": 1},
    ).sort("published_at", pymongo.DESCENDING)
    assert sorted(d["_id"][-1] for d in found) == ["1", "2"]


def test_query_most_mentioned(stories: Any) -> None:
    top = stories.aggregate(
        [
            {"$match": {"published_at": {"$gte": SINCE}}},
            {"$unwind": "$securities"},
            {"$group": {"_id": "$securities.secid", "stories": {"$sum": 1}}},
            {"$sort": {"stories": -1, "_id": 1}},
            {"$limit": 10},
        ]
    )
    assert [(t["_id"], t["stories"]) for t in top] == [("1.600519", 2), ("0.002594", 1)]


def test_query_one_stock_merged_across_feeds(stories: Any) -> None:
    found = stories.find({"securities.secid": "1.600519"}, {"sightings": 1})
    merged = [d for d in found if len(d["sightings"]) > 1]
    assert [d["_id"][-1] for d in merged] == ["1"]


def test_add_security_to_stored_stories(collection: Any) -> None:
    write(
        collection,
        article(1, securities=[sec("1.600519", "body", "贵州茅台")]),
        article(2, body_text="第二篇。" * 30),
        article(3, body_text="第三篇。" * 30, securities=[sec("0.002594", "feed")]),
    )
    ids = [f"eastmoney:2026112600000{n:05d}" for n in (1, 2, 3, 9)]
    collection.update_one({"_id": ids[1]}, {"$unset": {"securities": ""}})  # a schema-2 story
    listed = sec("1.600519", "listing")
    assert add_security(collection, ids, listed) == 3
    assert stored(collection, 1) == [
        {**sec("1.600519", "body", "贵州茅台"), "via": ["body", "listing"]}
    ]
    assert stored(collection, 2) == [listed]
    assert stored(collection, 3) == [sec("0.002594", "feed"), listed]
    # again: nothing left to add
    assert add_security(collection, ids, listed) == 0
    assert stored(collection, 2) == [listed]


def test_topics_union_across_sightings(collection: Any) -> None:
    write(collection, article(1, topics=[102]))
    write(collection, article(1, topics=[103, 102]), minutes=5)
    write(collection, article(1), minutes=10)
    doc = collection.find_one({"_id": "eastmoney:202611260000000001"})
    assert doc["topics"] == [102, 103]
    assert add_topic(collection, ["eastmoney:202611260000000001"], 106) == 1
    assert add_topic(collection, ["eastmoney:202611260000000001"], 106) == 0
    doc = collection.find_one({"_id": "eastmoney:202611260000000001"})
    assert sorted(doc["topics"]) == [102, 103, 106]
