"""The storage behaviours on the wire: against ``MONGO_URI`` when set (a real MongoDB), else
against the FerretDB server the session starts (``mongo_uri`` in tests/conftest.py).

Each test works in a database of its own (``finews_test_<random>``), dropped afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pymongo.collection import Collection
from pymongo.errors import AutoReconnect, WriteError

from crawler.incremental import KnownArticles
from crawler.store import spool
from crawler.store.fingerprint import simhash_bands
from crawler.store.mongo import ARTICLE_INDEXES
from tests.conftest import make_crawler
from tests.integration.conftest import is_ferretdb
from tests.storage_support import BODY_TEXT, PUBLISHED, article, later, open_pipeline, store_stats

pytestmark = pytest.mark.integration


def crawl(settings: dict[str, Any], *items: Any) -> dict[str, int]:
    crawler = make_crawler(**settings)
    pipeline = open_pipeline(crawler)
    for item in items:
        pipeline.process_item(item)
    pipeline.close_spider()
    return store_stats(crawler)


def test_insert_unchanged_updated(settings: dict[str, Any], collection: Any) -> None:
    assert crawl(settings, article(1)) == {"inserted": 1}
    assert crawl(settings, article(1, fetched_at=later(10))) == {"unchanged": 1}
    edited = article(1, body_text=BODY_TEXT + "\n更正。", fetched_at=later(20))
    assert crawl(settings, edited) == {"updated": 1}
    doc = collection.find_one()
    assert doc["revision"] == 2
    assert len(doc["previous_hashes"]) == 1
    assert doc["first_seen_at"] < doc["updated_at"] == doc["last_seen_at"]


def test_layers_of_deduplication(settings: dict[str, Any], collection: Any) -> None:
    code = "202205302396506117"
    feeds = [
        article(1, id=f"eastmoney:{code}", url=u, canonical_url=u)
        for u in (
            f"https://finance.eastmoney.com/a/{code}.html",
            f"https://kuaixun.eastmoney.com/a/{code}.html",
            f"http://choicewzp1.eastmoney.com/NewsData/GetNewsText.do?id=NW{code}",
        )
    ]
    exact = article(2, published_at=PUBLISHED)
    near = article(3, body_text=BODY_TEXT.removesuffix("。") + "。（财联社）")
    stats = crawl(settings, *feeds, exact, near)
    assert stats == {"inserted": 1, "unchanged": 2, "duplicate_exact": 1, "duplicate_near": 1}
    assert collection.count_documents({}) == 1
    assert len(collection.find_one()["sightings"]) == 5


def test_validator_and_indexes(
    settings: dict[str, Any], collection: Any, caplog: pytest.LogCaptureFixture
) -> None:
    crawl(settings, article(1))
    crawl(settings, article(1))  # indexes and validator again: idempotent
    indexes = collection.index_information()
    assert set(indexes) == {"_id_", *(model.document["name"] for model in ARTICLE_INDEXES)}
    assert indexes["canonical_url"]["unique"]
    assert indexes["simhash_bands"]["key"] == [("simhash_bands", 1), ("published_at", -1)]
    if is_ferretdb(collection):
        # FerretDB has no validators (docs/storage.md, "Servers"): one warning per opening.
        warnings = [r for r in caplog.records if "does not support $jsonSchema" in r.message]
        assert len(warnings) == 2
        return
    assert indexes["canonical_url"]["sparse"]
    with pytest.raises(WriteError):
        collection.insert_one({"_id": "x", "title": 5})
    plan = collection.find(
        {"simhash_bands": simhash_bands(0, 8)[0], "published_at": {"$gte": PUBLISHED}}
    ).explain()
    assert "IXSCAN" in str(plan["queryPlanner"]["winningPlan"])


def test_articles_without_a_canonical_url_do_not_collide(
    settings: dict[str, Any], collection: Any
) -> None:
    first = article(1, canonical_url=None)
    second = article(2, canonical_url=None, body_text="另一条新闻。" * 20)
    assert crawl(settings, first, second) == {"inserted": 2}
    assert collection.count_documents({"canonical_url": {"$exists": False}}) == 2


def test_a_document_over_the_size_limit_is_rejected_and_kept(
    settings: dict[str, Any], collection: Any
) -> None:
    huge = article(2, body_html="<p>" + "大" * (20 * 1024 * 1024 // 3) + "</p>")
    assert crawl({**settings, "NEWS_MONGO_BATCH_SIZE": 10}, article(1), huge) == {
        "inserted": 1,
        "rejected": 1,
    }
    assert collection.count_documents({}) == 1
    kept = list(Path(settings["NEWS_SPOOL_DIR"]).glob("rejected-*.jsonl"))
    assert len(kept) == 1
    assert json.loads(kept[0].read_text("utf-8"))["item"]["id"] == huge.id


def test_down_then_replay_stores_each_once(settings: dict[str, Any], collection: Any) -> None:
    down = {**settings, "NEWS_MONGO_URI": "mongodb://u:p@127.0.0.1:1/", "NEWS_MONGO_TIMEOUT_MS": 50}
    assert crawl(down, article(1), article(2), article(3, body_text="另一条" * 30)) == {
        "spooled": 3,
        "waiting": 3,
    }
    stats = crawl(settings)
    assert stats == {"replay/inserted": 2, "replay/duplicate_exact": 1}
    assert spool.pending_files(Path(settings["NEWS_SPOOL_DIR"])) == []
    assert collection.count_documents({}) == 2


def test_failure_mid_batch(
    settings: dict[str, Any], collection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Collection.bulk_write
    failures = iter([True])

    def flaky(self: Any, ops: list[Any], *args: Any, **kwargs: Any) -> Any:
        if next(failures, False):
            real(self, ops[: len(ops) // 2], *args, **kwargs)
            raise AutoReconnect("connection reset by peer")
        return real(self, ops, *args, **kwargs)

    monkeypatch.setattr(Collection, "bulk_write", flaky)
    items = [article(n, body_text=f"第{n}条" + chr(0x4E00 + n * 50) * 60) for n in range(1, 7)]
    stats = crawl({**settings, "NEWS_MONGO_BATCH_SIZE": 4}, *items)
    assert stats["spooled"] == 6
    assert collection.count_documents({}) == 6
    assert all(len(doc["sightings"]) == 1 for doc in collection.find())


def test_known_articles(settings: dict[str, Any]) -> None:
    crawl(settings, article(1), article(2))
    known = KnownArticles.from_crawler(make_crawler(**settings))
    ids = [f"eastmoney:20261126000000000{n}" for n in (1, 2, 3)]
    assert known.unknown(ids) == {ids[2]}
    known.close()
