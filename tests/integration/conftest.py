"""Fixtures of the tests on the wire: a database of the session's server for each test."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pymongo
import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from pymongo.collection import Collection


@pytest.fixture
def settings(tmp_path: Path, mongo_uri: str) -> Iterator[dict[str, Any]]:
    """Storage settings for a database of its own (``finews_test_<random>``), dropped after."""
    database = f"finews_test_{uuid.uuid4().hex[:8]}"
    yield {
        "NEWS_MONGO_URI": mongo_uri,
        "NEWS_MONGO_DATABASE": database,
        "NEWS_MONGO_FLUSH_SECONDS": 0,
        "NEWS_SPOOL_DIR": str(tmp_path / "spool"),
    }
    client: Any = pymongo.MongoClient(mongo_uri)
    client.drop_database(database)
    client.close()


@pytest.fixture
def collection(settings: dict[str, Any]) -> Iterator[Collection[dict[str, Any]]]:
    """The test database's article collection, read through a client of the test's own."""
    client: Any = pymongo.MongoClient(settings["NEWS_MONGO_URI"], tz_aware=True)
    yield client[settings["NEWS_MONGO_DATABASE"]]["articles"]
    client.close()


def is_ferretdb(collection: Collection[dict[str, Any]]) -> bool:
    """Tell whether the server is FerretDB (it names its version in ``buildInfo``)."""
    return "ferretdbVersion" in collection.database.client.admin.command("buildInfo")
