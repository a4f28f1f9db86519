"""Leases on stories (crawler/store/leases.py): all or none, given back, broken when stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock
import pytest

from crawler.store.leases import Leases, LeaseTimeout, atomic_updates, holding, story_leases


@pytest.fixture
def leases_collection() -> Any:
    return mongomock.MongoClient(tz_aware=True).db.articles_leases


def test_a_lease_is_held_inside_the_block_and_given_back_after(leases_collection: Any) -> None:
    ours = Leases(leases_collection)
    with ours.hold(["b", "a", "a"]):
        held = {doc["_id"]: doc["owner"] for doc in leases_collection.find()}
        assert held == {"a": ours.owner, "b": ours.owner}
    assert leases_collection.count_documents({}) == 0


def test_leases_are_taken_all_or_none(leases_collection: Any) -> None:
    """A writer that gets only some of its leases gives those back before it waits."""
    theirs = Leases(leases_collection)
    ours = Leases(leases_collection, patience=0.05)
    with theirs.hold(["b"]), pytest.raises(LeaseTimeout), ours.hold(["a", "b", "c"]):
        pass
    assert [doc["_id"] for doc in leases_collection.find()] == []


def test_a_held_lease_is_waited_for(
    leases_collection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs = Leases(leases_collection)
    ours = Leases(leases_collection, patience=5)
    theirs._acquire(["a"])
    waits = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        theirs._release(["a"])  # the other writer finishes while we wait

    monkeypatch.setattr("crawler.store.leases.time.sleep", sleep)
    with ours.hold(["a"]):
        assert leases_collection.find_one({"_id": "a"})["owner"] == ours.owner
    assert len(waits) == 1


def test_a_stale_lease_of_a_gone_writer_is_broken(
    leases_collection: Any, caplog: pytest.LogCaptureFixture
) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    leases_collection.insert_one({"_id": "a", "owner": "crashed", "until": past})
    with Leases(leases_collection, patience=1).hold(["a"]):
        pass
    assert "Broke 1 leases" in caplog.text


def test_a_lease_another_writer_holds_is_not_given_back_by_us(leases_collection: Any) -> None:
    theirs = Leases(leases_collection)
    theirs._acquire(["a"])
    Leases(leases_collection)._release(["a"])
    assert leases_collection.find_one({"_id": "a"})["owner"] == theirs.owner


def test_mongomock_needs_no_leases() -> None:
    collection = mongomock.MongoClient().db.articles
    assert atomic_updates(collection.database.client)
    assert story_leases(collection) is None
    with holding(None, ["a"]):
        pass
