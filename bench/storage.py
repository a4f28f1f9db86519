"""Storage throughput and the near-duplicate lookup on a MongoDB-protocol server (run by hand).

    python bench/storage.py [--uri URI | --mongomock] [--items 2000] [--single-items 200]
                            [--sizes 10000 100000] [--probes 5]

The server: ``--uri``, else ``MONGO_URI``, else a FerretDB server that ``deploy/ferretdb.sh``
starts for the run in a temporary directory and stops after it; ``--mongomock`` measures
mongomock instead (no indexes: only its ratios mean anything). Database ``finews_bench``,
dropped afterwards. Prints:

- the near-duplicate lookup with ``--sizes`` stored articles (random SimHashes published over a
  year, bands as the store writes them): the store's candidate query for a batch of 100 new
  articles (its time, the documents the server returns and those the store keeps), then
  ``--probes`` single articles' band lookups (candidates per article), and what the server's
  ``explain`` says of each query: the plan (an index scan on ``simhash_bands`` or a collection
  scan), keys and documents examined where the server counts them, FerretDB's
  ``filterPushdown``;
- items/s writing ``--items`` new articles through the store in batches of 100 (one lookup and
  one unordered bulk write per batch, as a crawl writes) and ``--single-items`` one at a time.

Last line: ``storage: bulk_items_per_s=N single_items_per_s=M``.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.items import Article  # noqa: E402
from crawler.store.documents import article_document  # noqa: E402
from crawler.store.fingerprint import simhash_bands  # noqa: E402
from crawler.store.mongo import ARTICLE_INDEXES  # noqa: E402
from crawler.store.writer import ArticleStore, Record  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Iterator

DISTANCE = 8
WINDOW = timedelta(hours=12)
START = datetime(2025, 1, 1, tzinfo=UTC)
BATCH = 100
FERRETDB = ROOT / "deploy" / "ferretdb.sh"


@dataclass(frozen=True)
class Server:
    """A MongoDB-protocol server: its URI and, when this run started it, its process id."""

    uri: str
    pid: int | None = None

    def cpu_s(self) -> float | None:
        """Return the server process's CPU seconds so far (None when it is not ours)."""
        if self.pid is None:
            return None
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


@contextmanager
def ferretdb() -> Iterator[Server | None]:
    """Start a FerretDB server (``deploy/ferretdb.sh``) for the block; yield None, after saying
    why, when it cannot start here (no Go to build it)."""
    with tempfile.TemporaryDirectory(prefix="finews-bench-") as directory:
        started = subprocess.run(
            [str(FERRETDB), "start", directory], capture_output=True, text=True, check=False
        )
        if started.returncode:
            print(f"no FerretDB server: {started.stderr.strip()}", file=sys.stderr)
            yield None
            return
        try:
            pid = int((Path(directory) / "ferretdb.pid").read_text())
            yield Server(started.stdout.strip().splitlines()[-1], pid)
        finally:
            subprocess.run([str(FERRETDB), "stop", directory], check=False)


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


def writes(db: Any, items: int, single_items: int) -> tuple[float, float]:
    """Return items/s for bulk (batches of 100) and one-at-a-time writes of new articles."""
    rng = random.Random(1)
    records = [record(rng, n, START + timedelta(minutes=n)) for n in range(items)]
    rates = []
    for size, count in ((BATCH, items), (1, single_items)):
        store = ArticleStore(fresh_collection(db, "bench_writes"), DISTANCE, WINDOW)
        started = time.perf_counter()
        for i in range(0, count, size):
            store.write(records[i : i + size])
        rates.append(count / (time.perf_counter() - started))
        assert store.collection.count_documents({}) == count
    db.drop_collection("bench_writes")
    return rates[0], rates[1]


def seed(db: Any, size: int) -> tuple[Any, float]:
    """Store ``size`` articles with random SimHashes over a year; return the collection and
    the insert rate (documents/s, ``insert_many`` of 10,000 at a time, indexes in place)."""
    rng = random.Random(size)
    collection = fresh_collection(db, "bench_lookup")
    elapsed = 0.0
    for first in range(0, size, 10_000):
        docs = []
        for n in range(first, min(first + 10_000, size)):
            published = START + timedelta(seconds=rng.randrange(365 * 86400))
            doc = article_document(record(rng, n, published).item, published, DISTANCE)
            value = rng.getrandbits(64) - 2**63  # texts are not needed for the lookup
            docs.append(doc | {"simhash": value, "simhash_bands": simhash_bands(value, DISTANCE)})
        started = time.perf_counter()
        collection.insert_many(docs)
        elapsed += time.perf_counter() - started
    return collection, size / elapsed


def explained(cursor: Any) -> str:
    """Return what the server's ``explain`` says of a query's cursor, on one line."""
    plan = cursor.explain()
    if "ferretdbVersion" in plan.get("serverInfo", {}):
        steps = "; ".join(plan.get("queryPlanner", {}).get("Plan", []))
        return f"ferretdb filterPushdown={plan.get('filterPushdown')} plan=[{steps}]"
    winning = plan.get("queryPlanner", {}).get("winningPlan", {})
    stats = plan.get("executionStats", {})
    return (
        f"plan={_stages(winning)} keys_examined={stats.get('totalKeysExamined')} "
        f"docs_examined={stats.get('totalDocsExamined')}"
    )


def _stages(plan: dict[str, Any]) -> str:
    """Return a MongoDB plan's stages, outermost first, with the index each scan uses."""
    stage = plan.get("stage", "?")
    if "indexName" in plan:
        stage += f"({plan['indexName']})"
    children = plan.get("inputStages") or ([plan["inputStage"]] if "inputStage" in plan else [])
    inner = ",".join(_stages(child) for child in children)
    return f"{stage}>{inner}" if inner else stage


def lookup(db: Any, size: int, probes: int, real: bool) -> None:
    """Time the store's candidate query of a batch of 100 new articles against ``size`` stored
    ones, and single articles' band lookups; print what ``explain`` says of both."""
    collection, insert_rate = seed(db, size)
    print(f"seeded: stored={size} insert_many_docs_per_s={insert_rate:.0f}", flush=True)
    store = ArticleStore(collection, DISTANCE, WINDOW)
    rng = random.Random(7)
    batch = []
    for n in range(BATCH):
        published = START + timedelta(seconds=rng.randrange(365 * 86400))
        batch.append(article_document(record(rng, size + n, published).item, published, DISTANCE))
    started = time.perf_counter()
    returned = collection.count_documents(store.candidate_filter(batch))
    kept = store._candidates(batch)
    print(
        f"near-dup batch lookup: stored={size} batch={BATCH} "
        f"ms={(time.perf_counter() - started) * 1000:.0f} returned={returned} kept={len(kept)}",
        flush=True,
    )
    counts, times = [], []
    for document in batch[:probes]:
        published = document["published_at"]
        query = {
            "simhash_bands": {"$in": document["simhash_bands"]},
            "published_at": {"$gte": published - WINDOW, "$lte": published + WINDOW},
        }
        started = time.perf_counter()
        counts.append(len(list(collection.find(query, {"_id": 1}))))
        times.append(time.perf_counter() - started)
    print(
        f"near-dup article lookup: stored={size} probes={probes} "
        f"candidates_per_article={sum(counts) / len(counts):.2f} "
        f"ms_per_article={sum(times) * 1000 / len(times):.0f}",
        flush=True,
    )
    if real:
        batch_query = collection.find(store.candidate_filter(batch))
        print(f"    explain batch: {explained(batch_query)}", flush=True)
        print(f"    explain article: {explained(collection.find(query))}", flush=True)
    db.drop_collection("bench_lookup")


def client(args: argparse.Namespace, uri: str | None) -> tuple[Any, str]:
    """Return a client and a label for the server (or mongomock)."""
    if args.mongomock:
        import mongomock
        from mongomock.collection import BulkOperationBuilder

        original = BulkOperationBuilder.add_update  # mongomock 4.3 predates UpdateOne(sort=)
        BulkOperationBuilder.add_update = lambda self, *a, sort=None, **k: original(self, *a, **k)  # type: ignore[method-assign]
        return mongomock.MongoClient(tz_aware=True), "mongomock"
    import pymongo

    mongo: Any = pymongo.MongoClient(uri, tz_aware=True)
    info = mongo.server_info()
    name = f"ferretdb {info['ferretdbVersion']}" if "ferretdbVersion" in info else "mongodb"
    return mongo, f"{name} (wire version {info.get('version')}) at {uri}"


def run(args: argparse.Namespace, server: Server | None) -> None:
    """Run every measurement against ``server`` (or mongomock) and print the figures."""
    mongo, label = client(args, server.uri if server else None)
    db = mongo["finews_bench"]
    cpu_before = server.cpu_s() if server else None
    try:
        print(f"backend: {label}", flush=True)
        for size in args.sizes:
            lookup(db, size, args.probes, not args.mongomock)
        bulk, single = writes(db, args.items, args.single_items)
        print(f"writes: bulk_items={args.items} batch={BATCH} single_items={args.single_items}")
    finally:
        mongo.drop_database("finews_bench")
        mongo.close()
    if server and cpu_before is not None:
        print(f"server_cpu_s={(server.cpu_s() or 0) - cpu_before:.1f}")
    print(f"storage: bulk_items_per_s={bulk:.0f} single_items_per_s={single:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uri", default=os.environ.get("MONGO_URI") or None)
    parser.add_argument("--mongomock", action="store_true", help="mongomock instead of a server")
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--single-items", type=int, default=200)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--probes", type=int, default=5, help="single-article band lookups")
    args = parser.parse_args()
    if args.uri or args.mongomock:
        run(args, Server(args.uri) if args.uri else None)
        return
    with ferretdb() as server:
        if server is None:
            sys.exit("no server: give --uri (or MONGO_URI), install Go, or use --mongomock")
        run(args, server)


if __name__ == "__main__":
    main()
