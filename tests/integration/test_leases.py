"""Leases on the wire: concurrent updates of one story all land, whatever the server."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pymongo
import pytest

from crawler.store.leases import Leases, atomic_updates, story_leases
from tests.integration.conftest import is_ferretdb

if TYPE_CHECKING:
    from pymongo.collection import Collection

pytestmark = pytest.mark.integration

WRITERS = 4
PUSHES = 25


def test_leases_are_taken_exactly_where_updates_are_not_atomic(collection: Any) -> None:
    assert atomic_updates(collection.database.client) is not is_ferretdb(collection)
    assert (story_leases(collection) is None) is not is_ferretdb(collection)


def test_concurrent_pushes_under_leases_all_land(collection: Collection[dict[str, Any]]) -> None:
    """Four clients push to one story at once, each push under a lease: none is lost (without
    leases FerretDB 1.24 kept 45 of 4 × 50)."""
    collection.insert_one({"_id": "story", "sightings": []})
    uri = collection.database.client.address
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        client: Any = pymongo.MongoClient(*uri)
        try:
            own = client[collection.database.name][collection.name]
            leases = Leases(own.database[f"{own.name}_leases"])
            start.wait()
            for push in range(PUSHES):
                with leases.hold(["story"]):
                    own.update_one({"_id": "story"}, {"$push": {"sightings": f"{number}:{push}"}})
        except BaseException as error:  # reported by the test, not lost in the thread
            failures.append(error)
        finally:
            client.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    stored = collection.find_one({"_id": "story"})
    assert stored is not None
    assert len(stored["sightings"]) == WRITERS * PUSHES
    assert collection.database[f"{collection.name}_leases"].count_documents({}) == 0
