"""Walk records in MongoDB (mongomock): written whole, read back, safe when MongoDB is down."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from crawler.store import mongo
from crawler.store.walks import UNREACHABLE, Frontier, WalkRecord, WalkStore, record_from
from tests.conftest import make_crawler
from tests.storage_support import mongo_client, storage_settings

if TYPE_CHECKING:
    from pathlib import Path

STARTED = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
REACHED = Frontier(3, ("url:a", "url:b"))
TARGET = Frontier(7, ("url:y", "url:z"))


def store_on(client: Any, tmp_path: Path, spider: str = "site") -> WalkStore:
    settings = make_crawler(**storage_settings(client, tmp_path)).settings
    return WalkStore.from_settings(settings, spider)


def test_a_listing_never_walked_has_no_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    walks = store_on(mongo_client(monkeypatch), tmp_path)
    assert walks.load("paged http://h/list/1.html") is None
    walks.close()


def test_a_record_is_written_whole_and_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = mongo_client(monkeypatch)
    walks = store_on(client, tmp_path)
    listing = "paged http://h/list/1.html"
    assert walks.save(listing, WalkRecord(False, REACHED, TARGET), STARTED, None)
    assert walks.load(listing) == WalkRecord(False, REACHED, TARGET)
    assert walks.save(listing, WalkRecord(True, Frontier(9, ("url:q",))), STARTED, "nothing_new")
    assert walks.load(listing) == WalkRecord(True, Frontier(9, ("url:q",)), None)
    (document,) = client["finews"]["walks"].find()
    assert document["_id"] == "site paged http://h/list/1.html"
    assert (document["spider"], document["listing"], document["stop"]) == (
        "site",
        listing,
        "nothing_new",
    )
    assert document["started_at"] == STARTED
    assert document["updated_at"] >= STARTED
    walks.close()


def test_records_are_kept_per_spider_and_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = mongo_client(monkeypatch)
    site, other = store_on(client, tmp_path, "site"), store_on(client, tmp_path, "eastmoney")
    site.save("a", WalkRecord(True, REACHED), STARTED, "last_page")
    assert other.load("a") is None
    assert site.load("b") is None
    assert site.load("a") == WalkRecord(True, REACHED)
    site.close()
    other.close()


@pytest.mark.parametrize(
    ("document", "record"),
    [
        ({"complete": True, "reached": {"page": 2, "ids": ["x"]}}, WalkRecord(True, Frontier(2, ("x",)))),
        ({"complete": "yes"}, WalkRecord(False)),  # only true is complete
        ({"complete": True, "reached": {"page": "2", "ids": []}}, WalkRecord(True)),
        ({"reached": {"page": 2, "ids": ["x", 5]}, "target": []}, WalkRecord(False, Frontier(2, ("x",)))),
    ],
)  # fmt: skip
def test_a_malformed_record_reads_safely(document: dict[str, Any], record: WalkRecord) -> None:
    assert record_from(document) == record


def test_storage_off_keeps_no_record(tmp_path: Path) -> None:
    walks = WalkStore.from_settings(make_crawler(NEWS_MONGO_URI="").settings, "site")
    assert walks.load("a") is None
    assert not walks.save("a", WalkRecord(True), STARTED, "last_page")
    walks.close()


def test_unreachable_mongodb_reads_as_an_unfinished_walk_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    crawler = make_crawler(
        NEWS_MONGO_URI="mongodb://finews:s3cret@127.0.0.1:1/", NEWS_MONGO_TIMEOUT_MS=50
    )
    walks = WalkStore.from_settings(crawler.settings, "site")
    clients = len(mongo._SHARED)
    with caplog.at_level(logging.WARNING):
        assert walks.load("a") is UNREACHABLE
        assert not walks.save("a", WalkRecord(True), STARTED, "last_page")
        assert walks.load("b") is UNREACHABLE
    assert caplog.text.count("cannot keep walk records") == 1
    assert "s3cret" not in caplog.text
    assert UNREACHABLE == WalkRecord(complete=False)
    walks.close()
    assert len(mongo._SHARED) == clients  # the client was given back


def test_the_store_shares_and_gives_back_the_process_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = sum(shared.users for shared in mongo._SHARED.values())
    walks = store_on(mongo_client(monkeypatch), tmp_path)
    walks.load("a")
    assert sum(shared.users for shared in mongo._SHARED.values()) == users + 1
    walks.close()
    assert sum(shared.users for shared in mongo._SHARED.values()) == users
