"""Run a Scrapy command noting when each article is stored: ``bench/freshness.py``'s follower.

    python bench/follower.py STORED [--trace OUT] -- crawl eastmoney_724 -a follow=10s …

Wraps :meth:`crawler.store.writer.ArticleStore.write`: after each batch written, one line per
article it did not reject is appended to ``STORED``, ``<unix time> <article id>``. So the bench
learns when a flash reached the server without asking the server (on FerretDB every lookup but
one by ``_id`` reads the whole collection, and even that one scans SQLite's table: a watcher
asking twice a second loaded the server the follower writes to). ``--trace`` also runs
:mod:`bench.memtrace`.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import memtrace  # noqa: E402
from crawler.store.writer import ArticleStore, Record, WriteResult  # noqa: E402


def noting(out: Path) -> None:
    """Make every store of this process append what it stored, and when, to ``out``."""
    write = ArticleStore.write

    @functools.wraps(write)
    def write_noted(self: Any, records: list[Record]) -> WriteResult:
        result = write(self, records)
        now = time.time()
        rejected = {id(record) for record in result.rejected}
        lines = [f"{now:.3f} {r.item.get('id')}\n" for r in records if id(r) not in rejected]
        with out.open("a", encoding="utf-8") as f:
            f.writelines(lines)
        return result

    ArticleStore.write = write_noted  # type: ignore[method-assign]


def main() -> None:
    """Parse our arguments, hook the store, hand the rest to Scrapy."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("stored", type=Path)
    parser.add_argument("--trace", type=Path)
    parser.add_argument("scrapy", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    noting(args.stored)
    if args.trace:
        memtrace.start(args.trace)
    memtrace.scrapy(args.scrapy)


if __name__ == "__main__":
    main()
