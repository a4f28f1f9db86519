"""Storage throughput and near-duplicate lookup cost (run by hand).

    python bench/storage.py [--items 2000] [--sizes 10000 100000]

Against mongomock by default, a real server when ``MONGO_URI`` is set (database
``finews_bench``, dropped afterwards). Prints:

- items/s writing ``--items`` new articles through the store in batches of 100 (one lookup and
  one unordered bulk write per batch) and one at a time (a lookup and a write per article);
- the near-duplicate lookup with ``--sizes`` stored articles (random SimHashes published over a
  year): time per looked-up article and candidates returned; with a real server also the
  index keys and documents examined (``explain``).

mongomock has no indexes (every find scans the collection), so its lookup times grow with the
collection; the candidate counts show what the band index does on a real server.
Last line: ``storage: bulk_items_per_s=N single_items_per_s=M``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.items import Article  # noqa: E402
from crawler.store.documents import article_document  # noqa: E402
from crawler.store.mongo import ARTICLE_INDEXES  # noqa: E402
from crawler.store.writer import ArticleStore, Record  # noqa: E402

DISTANCE = 8
WINDOW = timedelta(hours=12)
START = datetime(2025, 1, 1, tzinfo=UTC)
BATCH = 100


def client() -> tuple[Any, str]:
    """Return a client (a real server when MONGO_URI is set, else mongomock) and its label."""
    uri = os.environ.get("MONGO_URI")
    if uri:
        import pymongo

        return pymongo.MongoClient(uri, tz_aware=True), "mongodb"
    import mongomock
    from mongomock.collection import BulkOperationBuilder

    original = BulkOperationBuilder.add_update  # mongomock 4.3 predates UpdateOne(sort=)
    BulkOperationBuilder.add_update = lambda self, *a, sort=None, **k: original(self, *a, **k)  # type: ignore[method-assign]
    return mongomock.MongoClient(tz_aware=True), "mongomock"


def fresh_collection(db: Any, name: str) -> Any:
    """Return an empty collection with the article indexes."""
    db.drop_collection(name)
    collection = db[name]
    collection.create_indexes(list(ARTICLE_INDEXES))
    return collection


def random_text(rng: random.Random, length: int = 300) -> str:
    """Return ``length`` random common CJK characters in sentences."""
    chars = [chr(rng.randrange(0x4E00, 0x6000)) for _ in range(length)]
    return "".join(c + ("。" if i % 40 == 39 else "") for i, c in enumerate(chars))


def record(rng: random.Random, number: int, published: datetime) -> Record:
    """Return a new article record."""
    code = f"bench{number:09d}"
    item = Article(
        url=f"https://example.com/a/{code}.html",
        canonical_url=f"https://example.com/a/{code}.html",
        id=f"bench:{code}",
        source="bench",
        native_id=code,
        title=f"标题{number}",
        published_at=published,
        published_tz="+08:00",
        body_html="<p>…</p>",
        body_text=random_text(rng),
        publisher="基准",
    )
    return Record(item=vars(item), seen_at=published)


def writes(db: Any, items: int) -> tuple[float, float]:
    """Return items/s for bulk (batches of 100) and one-at-a-time writes of new articles."""
    rng = random.Random(1)
    records = [record(rng, n, START + timedelta(minutes=n)) for n in range(items)]
    rates = []
    for size in (BATCH, 1):
        store = ArticleStore(fresh_collection(db, "bench_writes"), DISTANCE, WINDOW)
        started = time.perf_counter()
        for i in range(0, items, size):
            store.write(records[i : i + size])
        rates.append(items / (time.perf_counter() - started))
        assert store.collection.count_documents({}) == items
    return rates[0], rates[1]


def seed(db: Any, size: int) -> Any:
    """Store ``size`` articles with random SimHashes over a year; return the collection."""
    rng = random.Random(size)
    db.drop_collection("bench_lookup")
    collection = db["bench_lookup"]
    docs = []
    for n in range(size):
        published = START + timedelta(seconds=rng.randrange(365 * 86400))
        doc = article_document(record(rng, n, published).item, published, DISTANCE)
        docs.append(doc | _random_fingerprint(rng))
        if len(docs) == 10_000:
            collection.insert_many(docs)
            docs = []
    if docs:
        collection.insert_many(docs)
    collection.create_indexes(
        list(ARTICLE_INDEXES)
    )  # after the load: mongomock checks uniques slowly
    return collection


def _random_fingerprint(rng: random.Random) -> dict[str, Any]:
    """Return a random SimHash and its bands (texts are not needed for the lookup)."""
    from crawler.store.fingerprint import simhash_bands

    value = rng.getrandbits(64) - 2**63
    return {"simhash": value, "simhash_bands": simhash_bands(value, DISTANCE)}


def lookup(db: Any, size: int, real: bool) -> str:
    """Time the candidate query of a batch of 100 new articles against ``size`` stored ones."""
    collection = seed(db, size)
    store = ArticleStore(collection, DISTANCE, WINDOW)
    rng = random.Random(7)
    probes = []
    for n in range(BATCH):
        published = START + timedelta(seconds=rng.randrange(365 * 86400))
        doc = article_document(record(rng, size + n, published).item, published, DISTANCE)
        probes.append(doc)
    started = time.perf_counter()
    candidates = list(store._candidates(probes))
    per_item_ms = (time.perf_counter() - started) * 1000 / BATCH
    line = (
        f"near-dup lookup: stored={size} per_item_ms={per_item_ms:.3f} "
        f"candidates_per_batch={len(candidates)}"
    )
    if real:
        stats = store._candidates(probes).explain()["executionStats"]
        keys, docs = stats["totalKeysExamined"], stats["totalDocsExamined"]
        line += f" keys_examined={keys} docs_examined={docs}"
    db.drop_collection("bench_lookup")
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    mongo, label = client()
    db = mongo["finews_bench"]
    try:
        print(f"backend: {label}")
        for size in args.sizes:
            print(lookup(db, size, label == "mongodb"), flush=True)
        bulk, single = writes(db, args.items)
        print(f"writes: items={args.items} bulk_batch={BATCH}")
    finally:
        mongo.drop_database("finews_bench")
        mongo.close()
    print(f"storage: bulk_items_per_s={bulk:.0f} single_items_per_s={single:.0f}")


if __name__ == "__main__":
    main()
