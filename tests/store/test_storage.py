"""The storage pipeline on mongomock: layers of deduplication, revisions, batches, safety."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from unittest.mock import MagicMock

import pytest
from itemadapter import ItemAdapter
from pymongo.errors import OperationFailure
from scrapy.exceptions import DropItem, NotConfigured

from crawler.items import mongo_json_schema
from crawler.store import spool
from crawler.store.documents import article_document
from crawler.store.fingerprint import hamming, legacy_bands
from crawler.store.mongo import ARTICLE_INDEXES, StorageConfig, prepare_collection, redact_uri
from crawler.store.writer import ArticleStore, Record
from pipelines.storage import StoragePipeline
from tests.conftest import make_crawler
from tests.storage_support import (
    BODY_TEXT,
    FETCHED,
    PUBLISHED,
    article,
    encode_writes,
    later,
    mongo_client,
    open_pipeline,
    storage_settings,
    store_stats,
)

if TYPE_CHECKING:
    from pathlib import Path

    import mongomock


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> mongomock.MongoClient:
    return mongo_client(monkeypatch)


@pytest.fixture
def collection(client: mongomock.MongoClient) -> Any:
    return client["finews"]["articles"]


def run(client: Any, tmp_path: Path, *items: Any, **settings: Any) -> Any:
    """Crawl ``items`` through a fresh storage pipeline; return its crawler."""
    crawler = make_crawler(**storage_settings(client, tmp_path / "spool", **settings))
    pipeline = open_pipeline(crawler)
    for item in items:
        assert pipeline.process_item(item) is item
    pipeline.close_spider()
    return crawler


# --- documents --------------------------------------------------------------------------------


def test_first_sighting_inserts_the_document(client: Any, collection: Any, tmp_path: Path) -> None:
    crawler = run(client, tmp_path, article(1))
    assert store_stats(crawler) == {"inserted": 1}
    doc = collection.find_one({"_id": "eastmoney:202611260000000001"})
    assert doc["title"] == "十月份居民消费价格同比上涨0.2%"
    assert doc["body_text"] == BODY_TEXT
    assert doc["published_at"] == PUBLISHED
    assert doc["revision"] == 1
    assert doc["first_seen_at"] == doc["last_seen_at"] == doc["updated_at"] == FETCHED
    assert doc["previous_hashes"] == []
    assert len(doc["content_hash"]) == 40
    assert isinstance(doc["simhash"], int)
    assert len(doc["simhash_bands"]) == 45  # pairs of 10 blocks at distance 8
    assert doc["sightings"] == [
        {
            "id": "eastmoney:202611260000000001",
            "url": "https://finance.eastmoney.com/a/202611260000000001.html",
            "source": "eastmoney",
            "publisher": "国家统计局",
            "seen_at": FETCHED,
        }
    ]
    assert "id" not in doc
    assert set(doc) - {"_id"} <= set(mongo_json_schema()["properties"]) | {
        "simhash_bands",
        "previous_hashes",
    }


def test_unchanged_recrawl_only_moves_last_seen(
    client: Any, collection: Any, tmp_path: Path
) -> None:
    run(client, tmp_path, article(1))
    before = collection.find_one()
    crawler = run(client, tmp_path, article(1, fetched_at=later(60)))
    assert store_stats(crawler) == {"unchanged": 1}
    after = collection.find_one()
    assert after["last_seen_at"] == later(60)
    assert {k: v for k, v in after.items() if k != "last_seen_at"} == {
        k: v for k, v in before.items() if k != "last_seen_at"
    }


def test_edited_article_becomes_revision_2(client: Any, collection: Any, tmp_path: Path) -> None:
    run(client, tmp_path, article(1))
    first_hash = collection.find_one()["content_hash"]
    edited = BODY_TEXT.replace("零点九", "一点零")
    crawler = run(
        client, tmp_path, article(1, body_text=edited, title="更正", fetched_at=later(90))
    )
    assert store_stats(crawler) == {"updated": 1}
    doc = collection.find_one()
    assert doc["revision"] == 2
    assert doc["previous_hashes"] == [first_hash]
    assert doc["content_hash"] != first_hash
    assert doc["body_text"] == edited
    assert doc["title"] == "更正"
    assert doc["first_seen_at"] == FETCHED
    assert doc["updated_at"] == doc["last_seen_at"] == later(90)
    assert len(doc["sightings"]) == 1


def test_an_older_copy_replayed_late_does_not_undo_an_edit(
    client: Any, collection: Any, tmp_path: Path
) -> None:
    run(client, tmp_path, article(1, body_text=BODY_TEXT + "\n补充。", fetched_at=later(90)))
    crawler = run(client, tmp_path, article(1))
    assert store_stats(crawler) == {"unchanged": 1}
    assert collection.find_one()["body_text"].endswith("补充。")


def test_one_east_money_article_via_three_feeds_is_one_document(
    client: Any, collection: Any, tmp_path: Path
) -> None:
    code = "202205302396506117"
    urls = [
        f"https://finance.eastmoney.com/a/{code}.html",
        f"https://kuaixun.eastmoney.com/a/{code}.html",
        f"http://choicewzp1.eastmoney.com/NewsData/GetNewsText.do?id=NW{code}",
    ]
    items = [
        article(1, id=f"eastmoney:{code}", native_id=code, url=url, canonical_url=url, feed=feed)
        for url, feed in zip(urls, ["column:345", "724", "finews"], strict=True)
    ]
    items = [a for n, a in enumerate(items) if not setattr(a, "fetched_at", later(n))]
    crawler = run(client, tmp_path, *items, items[0])
    assert store_stats(crawler) == {"inserted": 1, "unchanged": 3}
    assert collection.count_documents({}) == 1
    doc = collection.find_one()
    assert [s["url"] for s in doc["sightings"]] == urls
    assert [s["seen_at"] for s in doc["sightings"]] == [later(0), later(1), later(2)]
    assert doc["url"] == urls[0]
    assert doc["last_seen_at"] == later(2)


def test_same_canonical_url_under_another_id_is_the_same_story(
    client: Any, collection: Any, tmp_path: Path
) -> None:
    other = article(2, canonical_url=article(1).canonical_url, id="url:0123abcd")
    crawler = run(client, tmp_path, article(1), other)
    assert store_stats(crawler) == {"inserted": 1, "unchanged": 1}
    doc = collection.find_one()
    assert [s["id"] for s in doc["sightings"]] == ["eastmoney:202611260000000001", "url:0123abcd"]


def test_same_text_under_another_id_and_url_is_an_exact_duplicate(
    client: Any, collection: Any, tmp_path: Path
) -> None:
    copy = article(2, publisher="财联社", source="cls", fetched_at=later(5))
    crawler = run(client, tmp_path, article(1), copy)
    assert store_stats(crawler) == {"inserted": 1, "duplicate_exact": 1}
    doc = collection.find_one()
    assert [(s["id"], s["source"], s["publisher"]) for s in doc["sightings"]] == [
        ("eastmoney:202611260000000001", "eastmoney", "国家统计局"),
        ("eastmoney:202611260000000002", "cls", "财联社"),
    ]
    assert doc["last_seen_at"] == later(5)


def test_a_copy_with_a_source_tag_is_a_near_duplicate(
    client: Any, collection: Any, tmp_path: Path
) -> None:
    tagged = article(2, body_text=BODY_TEXT.removesuffix("。") + "。（财联社）")
    crawler = run(client, tmp_path, article(1), tagged)
    assert store_stats(crawler) == {"inserted": 1, "duplicate_near": 1}
    assert collection.count_documents({}) == 1


def test_a_story_stored_with_single_block_bands_is_still_found(
    client: Any, collection: Any, tmp_path: Path
) -> None:
    run(client, tmp_path, article(1))
    doc = collection.find_one()
    old_keys = legacy_bands(doc["simhash"], 8)  # what earlier finews stored
    collection.update_one({"_id": doc["_id"]}, {"$set": {"simhash_bands": old_keys}})
    tagged = article(2, body_text=BODY_TEXT.removesuffix("。") + "。（财联社）")
    crawler = run(client, tmp_path, tagged)
    assert store_stats(crawler) == {"duplicate_near": 1}
    assert collection.count_documents({}) == 1


def test_stories_sharing_a_band_by_chance_are_dropped_as_read(collection: Any) -> None:
    store = ArticleStore(collection, 8, timedelta(hours=12))
    new = article_document(ItemAdapter(article(1)), FETCHED, 8)
    for n in range(2, 12):  # other texts, given one of the new story's keys
        text = f"{n}号文件" + BODY_TEXT[::-1]
        other = article_document(ItemAdapter(article(n, body_text=text)), FETCHED, 8)
        assert hamming(other["simhash"], new["simhash"]) > 8
        other["simhash_bands"] = [*other["simhash_bands"], new["simhash_bands"][n]]
        collection.insert_one(other)
    assert collection.count_documents({"simhash_bands": {"$in": new["simhash_bands"]}}) == 10
    assert store._candidates([new]) == []
    copy = article_document(ItemAdapter(article(12)), FETCHED, 8)
    collection.insert_one(copy)
    assert [story.doc["_id"] for story in store._candidates([new])] == [copy["_id"]]


def test_content_layers_only_match_within_the_window(
    client: Any, collection: Any, tmp_path: Path
) -> None:
    next_day = article(2, published_at=PUBLISHED + timedelta(hours=13))
    crawler = run(client, tmp_path, article(1), next_day)
    assert store_stats(crawler) == {"inserted": 2}


def test_short_flashes_merge_only_when_identical(client: Any, tmp_path: Path) -> None:
    flashes = [
        article(n, body_text=text, published_at=PUBLISHED + timedelta(minutes=n))
        for n, text in enumerate(
            ["北向资金净流入超40亿元。", "北向资金净流入超50亿元。", "北向资金净流入超50亿元。"]
        )
    ]
    crawler = run(client, tmp_path, *flashes)
    assert store_stats(crawler) == {"inserted": 2, "duplicate_exact": 1}


def test_a_recopied_duplicate_is_known_by_its_own_id(
    client: Any, collection: Any, tmp_path: Path
) -> None:
    run(client, tmp_path, article(1), article(2))
    crawler = run(client, tmp_path, article(2, fetched_at=later(30)))
    assert store_stats(crawler) == {"unchanged": 1}
    assert collection.count_documents({}) == 1
    assert len(collection.find_one()["sightings"]) == 2


# --- batches ----------------------------------------------------------------------------------


def distinct(number: int) -> Any:
    """Return article ``number`` with a body of its own (60 characters no other body shares)."""
    return article(number, body_text="".join(chr(0x4E00 + number * 97 + k) for k in range(60)))


def test_batches_flush_by_size(client: Any, collection: Any, tmp_path: Path) -> None:
    crawler = make_crawler(**storage_settings(client, tmp_path, NEWS_MONGO_BATCH_SIZE=2))
    pipeline = open_pipeline(crawler)
    pipeline.process_item(distinct(1))
    assert collection.count_documents({}) == 0
    pipeline.process_item(distinct(2))
    assert collection.count_documents({}) == 2
    pipeline.process_item(distinct(3))
    assert collection.count_documents({}) == 2
    pipeline.close_spider()
    assert collection.count_documents({}) == 3
    assert store_stats(crawler) == {"inserted": 3}


def test_batches_flush_by_interval(
    client: Any, collection: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [100.0]
    monkeypatch.setattr("pipelines.storage.time.monotonic", lambda: clock[0])
    crawler = make_crawler(**storage_settings(client, tmp_path, NEWS_MONGO_FLUSH_SECONDS=30))
    pipeline = StoragePipeline.from_crawler(crawler)
    assert pipeline._connect()  # open_spider would also start the timer, which needs a loop
    pipeline.process_item(distinct(1))
    clock[0] = 129.0
    pipeline.process_item(distinct(2))
    assert collection.count_documents({}) == 0
    clock[0] = 131.0
    pipeline._flush_if_due()  # what the timer calls
    assert collection.count_documents({}) == 2
    pipeline.close_spider()


def test_a_duplicate_key_from_a_concurrent_writer_is_a_dedup_outcome(
    collection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ArticleStore(collection, 8, timedelta(hours=12))
    store.write([Record(dict(vars(article(1))), FETCHED)])
    blind = iter([[]])
    real = store._candidates
    monkeypatch.setattr(store, "_candidates", lambda docs: next(blind, None) or real(docs))
    result = store.write([Record(dict(vars(article(1))), later(1))])
    assert result.counts == {"unchanged": 1}
    assert result.rejected == []
    assert collection.count_documents({}) == 1


def test_a_refused_document_is_kept_aside(
    client: Any, collection: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pymongo.errors import BulkWriteError

    def refuse(ops: list[Any], ordered: bool) -> None:
        assert ordered is False
        raise BulkWriteError({"writeErrors": [{"index": 0, "code": 121, "errmsg": "invalid"}]})

    monkeypatch.setattr(
        type(collection), "bulk_write", lambda self, ops, ordered: refuse(ops, ordered)
    )
    crawler = run(client, tmp_path, article(1))
    assert store_stats(crawler) == {"rejected": 1}
    rejected = list((tmp_path / "spool").glob("rejected-*.jsonl"))
    assert len(rejected) == 1
    assert "eastmoney:202611260000000001" in rejected[0].read_text(encoding="utf-8")


# --- safety -----------------------------------------------------------------------------------


def test_scraped_keys_never_become_operators(client: Any, collection: Any, tmp_path: Path) -> None:
    hostile = article(1, summary={"$where": "sleep(1000)", "a.b": {"$gt": ""}})
    run(client, tmp_path, hostile)
    assert collection.find_one()["summary"] == {"＄where": "sleep(1000)", "a．b": {"＄gt": ""}}


def test_lone_surrogates_and_nul_are_stored_as_encodable_text(
    client: Any, collection: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    encode_writes(monkeypatch, collection)
    cut = article(1, summary="摘要被截断\ud83d", title="标题\x00", authors=["\udc00记者"])
    crawler = run(client, tmp_path, cut, distinct(2), NEWS_MONGO_BATCH_SIZE=5)
    assert store_stats(crawler) == {"inserted": 2}
    doc = collection.find_one({"_id": "eastmoney:202611260000000001"})
    assert (doc["summary"], doc["title"], doc["authors"]) == (
        "摘要被截断\ufffd",
        "标题",
        ["\ufffd记者"],
    )


def test_a_nul_in_a_key_is_escaped(
    client: Any, collection: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    encode_writes(monkeypatch, collection)
    crawler = run(client, tmp_path, article(1, summary={"a\x00b": {"$x\x00": 1}}))
    assert store_stats(crawler) == {"inserted": 1}
    assert collection.find_one()["summary"] == {"a␀b": {"＄x␀": 1}}


@pytest.mark.parametrize("bad", [2**64, {1, 2}], ids=["int-overflow", "set"])
def test_an_unencodable_item_is_rejected_and_its_batch_stored(
    client: Any, collection: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: Any
) -> None:
    encode_writes(monkeypatch, collection)
    items = [distinct(1), article(2, summary=bad, body_text="第二篇" * 30), distinct(3)]
    crawler = run(client, tmp_path, *items, NEWS_MONGO_BATCH_SIZE=3)
    assert store_stats(crawler) == {"inserted": 2, "rejected": 1}
    assert sorted(doc["_id"] for doc in collection.find()) == [
        "eastmoney:202611260000000001",
        "eastmoney:202611260000000003",
    ]
    (rejected,) = (tmp_path / "spool").glob("rejected-*.jsonl")
    (line,) = rejected.read_bytes().splitlines()
    assert b"eastmoney:202611260000000002" in line


def test_a_rejected_record_with_a_lone_surrogate_is_spooled(tmp_path: Path) -> None:
    record = Record({**vars(article(1, summary="半个表情\ud83d")), "authors": [2**64]}, FETCHED)
    file = spool.SpoolFile(tmp_path, spool.REJECTED)
    file.append([record])
    file.close()
    assert file.path is not None
    data = file.path.read_bytes()
    data.decode("utf-8")  # still valid UTF-8
    assert spool.decode(data) == record


def test_the_flush_timer_survives_a_failing_flush(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    timers: list[Any] = []

    class Timer:
        running = False

        def __init__(self, func: Any) -> None:
            self.func = func
            timers.append(self)

        def start(self, interval: float, now: bool) -> None:
            self.running = True

        def stop(self) -> None:
            self.running = False

    monkeypatch.setattr("pipelines.storage.create_looping_call", Timer)
    crawler = make_crawler(**storage_settings(client, tmp_path, NEWS_MONGO_FLUSH_SECONDS=30))
    pipeline = open_pipeline(crawler)
    (timer,) = timers
    pipeline.buffer.append(Record(dict(vars(distinct(1))), FETCHED))
    pipeline.last_flush -= 31  # the flush is due

    def full_disk(records: list[Record]) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(pipeline, "store", None)
    monkeypatch.setattr(pipeline.spool, "append", full_disk)
    with caplog.at_level(logging.ERROR):
        timer.func()  # a looping call stops for good when its function raises
    assert "Storing a batch of articles failed" in caplog.text
    assert "No space left on device" in caplog.text
    pipeline.close_spider()


def test_an_item_without_a_string_id_is_dropped(client: Any, tmp_path: Path) -> None:
    crawler = make_crawler(**storage_settings(client, tmp_path))
    pipeline = open_pipeline(crawler)
    with pytest.raises(DropItem, match="store_no_id"):
        pipeline.process_item(article(1, id={"$ne": None}))
    pipeline.close_spider()
    assert crawler.stats.get_value("news/dropped/store_no_id") == 1


@pytest.mark.parametrize(
    ("uri", "redacted"),
    [
        ("mongodb://finews:s3cret@db:27017/x", "mongodb://finews:***@db:27017/x"),
        ("mongodb+srv://u:p%40ss@cluster.example/?w=1", "mongodb+srv://u:***@cluster.example/?w=1"),
        (
            "mongodb://db/?authMechanism=PLAIN&password=s3cret",
            "mongodb://db/?authMechanism=PLAIN&password=***",
        ),
        ("mongodb://localhost:27017", "mongodb://localhost:27017"),
        ("error at mongodb://a:b@h1,h2/ now", "error at mongodb://a:***@h1,h2/ now"),
    ],
)
def test_redact_uri(uri: str, redacted: str) -> None:
    assert redact_uri(uri) == redacted


def test_a_password_never_reaches_the_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = {
        "NEWS_MONGO_URI": "mongodb://finews:s3cret@127.0.0.1:1/?authSource=admin",
        "NEWS_MONGO_TIMEOUT_MS": 50,
        "NEWS_MONGO_FLUSH_SECONDS": 0,
        "NEWS_SPOOL_DIR": str(tmp_path),
    }
    with caplog.at_level(logging.DEBUG):
        crawler = make_crawler(**settings)
        pipeline = open_pipeline(crawler)
        pipeline.process_item(article(1))
        pipeline.close_spider()
    assert "finews:***@127.0.0.1:1" in caplog.text
    assert "s3cret" not in caplog.text
    assert store_stats(crawler) == {"spooled": 1, "waiting": 1}


def test_empty_uri_turns_storage_off(tmp_path: Path) -> None:
    with pytest.raises(NotConfigured):
        StoragePipeline.from_crawler(make_crawler(NEWS_MONGO_URI="", NEWS_SPOOL_DIR=str(tmp_path)))


def test_mongo_uri_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWS_MONGO_URI", raising=False)
    monkeypatch.setenv("MONGO_URI", "mongodb://env-host:27017")
    crawler = make_crawler()
    crawler.settings.frozen = False
    crawler.settings.set("NEWS_MONGO_URI", None)
    assert StorageConfig.from_settings(crawler.settings).uri == "mongodb://env-host:27017"


def test_prepare_collection_installs_the_validator_and_indexes() -> None:
    database = MagicMock()
    database.list_collection_names.return_value = []
    database["articles"].index_information.return_value = {"_id_": {}, "publisher": {}}
    assert prepare_collection(database, "articles", validator=True) is True
    database.create_collection.assert_called_once_with(
        "articles", validator={"$jsonSchema": mongo_json_schema()}, check_exists=False
    )
    # Only the missing indexes, one createIndexes each (FerretDB drops a connection otherwise).
    created = [c.args[0] for c in database["articles"].create_indexes.call_args_list]
    assert created == [[m] for m in ARTICLE_INDEXES if m.document["name"] != "publisher"]
    database.list_collection_names.return_value = ["articles"]
    prepare_collection(database, "articles", validator=True)
    database.command.assert_called_once_with(
        "collMod", "articles", validator={"$jsonSchema": mongo_json_schema()}
    )


def test_a_collection_created_meanwhile_gets_the_validator_by_collmod() -> None:
    database = MagicMock()
    database.list_collection_names.return_value = []
    database.create_collection.side_effect = OperationFailure("exists", code=48)
    assert prepare_collection(database, "articles", validator=True) is True
    database.command.assert_called_once_with(
        "collMod", "articles", validator={"$jsonSchema": mongo_json_schema()}
    )


def test_a_server_without_validators_is_written_without_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = MagicMock()
    database.list_collection_names.return_value = []
    database.create_collection.side_effect = OperationFailure(
        "not implemented", code=238, details={"codeName": "NotImplemented"}
    )
    database["articles"].index_information.return_value = {}
    assert prepare_collection(database, "articles", validator=True) is False
    assert "does not support $jsonSchema validators (NotImplemented)" in caplog.text
    assert database["articles"].create_indexes.call_count == len(ARTICLE_INDEXES)
    # Any other refusal (no rights, a bad schema) is an error, not a missing feature.
    database.create_collection.side_effect = OperationFailure("unauthorized", code=13)
    with pytest.raises(OperationFailure):
        prepare_collection(database, "articles", validator=True)


def test_indexes_are_created_idempotently(client: Any, collection: Any, tmp_path: Path) -> None:
    run(client, tmp_path, article(1))
    first = collection.index_information()
    run(client, tmp_path, article(1))
    assert collection.index_information() == first
    assert first["canonical_url"]["unique"] is True
    assert set(first) == {
        "_id_",
        "canonical_url",
        "published_at",
        "publisher",
        "publisher_group",
        "content_hash",
        "simhash_bands",
        "sightings_id",
        "securities",
    }
