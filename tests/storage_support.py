"""Storage tests' helpers: a mongomock client behind the client seam, articles, posts as items."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import bson
import mongomock
from mongomock.collection import BulkOperationBuilder

from crawler.items import Article
from crawler.jekyll import article_from_post
from pipelines.chain import PipelineChain
from pipelines.storage import StoragePipeline
from tests.conftest import FIXTURES, make_crawler

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from scrapy.crawler import Crawler

POSTS = FIXTURES / "finews-posts" / "posts"
DUPLICATES = FIXTURES / "finews-posts" / "duplicates.tsv"
FETCHED = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
PUBLISHED = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
BODY = (
    "<p>国家统计局今天发布数据显示，十月份全国居民消费价格同比上涨百分之零点二，"
    "环比下降百分之零点一，其中城市上涨百分之零点二，农村上涨百分之零点一。</p>"
    "<p>食品价格同比下降百分之二点九，非食品价格上涨百分之零点九。</p>"
)
BODY_TEXT = (
    "国家统计局今天发布数据显示，十月份全国居民消费价格同比上涨百分之零点二，"
    "环比下降百分之零点一，其中城市上涨百分之零点二，农村上涨百分之零点一。\n"
    "食品价格同比下降百分之二点九，非食品价格上涨百分之零点九。"
)


def mongo_client(monkeypatch: pytest.MonkeyPatch) -> mongomock.MongoClient:
    """Return a fresh mongomock client.

    mongomock 4.3 predates pymongo 4.11, whose ``UpdateOne`` passes ``sort=`` to bulk builders.
    """
    original = BulkOperationBuilder.add_update

    def add_update(self: Any, *args: Any, sort: Any = None, **kwargs: Any) -> Any:
        return original(self, *args, **kwargs)

    monkeypatch.setattr(BulkOperationBuilder, "add_update", add_update)
    return mongomock.MongoClient(tz_aware=True)


def encode_writes(monkeypatch: pytest.MonkeyPatch, collection: Any) -> None:
    """Make ``collection``'s bulk writes BSON-encode every document first, as pymongo does.

    mongomock stores Python objects as they are, so without this it accepts what MongoDB cannot.
    """
    real = type(collection).bulk_write

    def bulk_write(self: Any, requests: list[Any], *args: Any, **kwargs: Any) -> Any:
        for request in requests:
            bson.encode(request._doc)
        return real(self, requests, *args, **kwargs)

    monkeypatch.setattr(type(collection), "bulk_write", bulk_write)


def storage_settings(client: Any, spool_dir: Path, **overrides: Any) -> dict[str, Any]:
    """Return settings that store into ``client`` (any URI) and spool under ``spool_dir``."""
    return {
        "NEWS_MONGO_URI": "mongodb://finews:s3cret@db.example:27017/?authSource=admin",
        "NEWS_MONGO_CLIENT_FACTORY": lambda uri, **options: client,
        "NEWS_MONGO_VALIDATOR": False,
        "NEWS_MONGO_FLUSH_SECONDS": 0,
        "NEWS_SPOOL_DIR": str(spool_dir),
        **overrides,
    }


def open_pipeline(crawler: Crawler) -> StoragePipeline:
    """Build and open the storage pipeline of ``crawler``."""
    pipeline = StoragePipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline


def store_stats(crawler: Crawler) -> dict[str, int]:
    """Return the ``news/store/…`` stats without their prefix."""
    assert crawler.stats is not None
    prefix = "news/store/"
    stats = crawler.stats.get_stats()
    return {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)}


def article(number: int = 1, **fields: Any) -> Article:
    """Return a normalised East Money article (as the validate stage passes it on)."""
    code = f"2026112600000{number:05d}"
    values: dict[str, Any] = {
        "url": f"https://finance.eastmoney.com/a/{code}.html",
        "canonical_url": f"https://finance.eastmoney.com/a/{code}.html",
        "id": f"eastmoney:{code}",
        "source": "eastmoney",
        "native_id": code,
        "feed": "column:345",
        "fetched_at": FETCHED,
        "title": "十月份居民消费价格同比上涨0.2%",
        "published_text": "2026-11-26 10:00:00",
        "published_at": PUBLISHED,
        "published_tz": "+08:00",
        "body_html": BODY,
        "body_text": BODY_TEXT,
        "publisher": "国家统计局",
        "publisher_slug": "guojiatongjiju",
        "via": "eastmoney",
    }
    values.update(fields)
    return Article(**values)


def later(minutes: float) -> datetime:
    """Return the fetch time ``minutes`` after the first fetch."""
    return FETCHED + timedelta(minutes=minutes)


def duplicate_groups() -> dict[str, tuple[str, list[str]]]:
    """Return duplicates.tsv as ``{group: (dup_type, [post file names])}``."""
    groups: dict[str, tuple[str, list[str]]] = {}
    with DUPLICATES.open(encoding="utf-8") as file:
        for row in csv.DictReader(file, delimiter="\t"):
            groups.setdefault(row["group"], (row["dup_type"], []))[1].append(row["filename"])
    return groups


def post_article(chain: PipelineChain, name: str) -> Article:
    """Return one original post as a normalised article, through the project's real stages."""
    return chain.process(
        article_from_post(name, (POSTS / name).read_text(encoding="utf-8"), FETCHED)
    )


def normalisation_chain() -> PipelineChain:
    """Return the project's normalisation stages."""
    return PipelineChain(make_crawler())
