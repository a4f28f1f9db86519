"""One storage writer of the concurrent-writers test, run as its own process::

    python -m tests.integration.writer URI DATABASE WRITER WRITERS GO_FILE OUT

Waits until ``GO_FILE`` exists (so every writer starts at once), then feeds its copies of the
shared stories (:func:`copies`) through the storage stage in small batches, in an order of its
own, and writes its ``news/store/…`` stats to ``OUT`` as JSON.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tests.conftest import make_crawler
from tests.storage_support import article, later, open_pipeline, store_stats

if TYPE_CHECKING:
    from crawler.items import Article

STORIES = 40
HANZI = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子"
)


def story_text(number: int) -> str:
    """A story's own text: 200 random characters, distinct per story."""
    rng = random.Random(number)
    return "".join(rng.choice(HANZI) for _ in range(200)) + "。"


def copies(writer: int) -> list[Article]:
    """Return writer ``writer``'s copy of every story.

    By story number modulo 4 the writers share: the id and URL (0), the text under their own id
    and URL (1), a near copy of the text under their own id and URL (2: writer 0 has the plain
    text, the others add an outlet's credit), the URL under their own id (3).
    """
    items = []
    for number in range(STORIES):
        kind = number % 4
        code = f"20261126{number:010d}"
        url = f"https://finance.eastmoney.com/a/{code}.html"
        own_url = f"https://mirror{writer}.example.com/a/{code}.html"
        text = story_text(number)
        fields = {
            "id": f"eastmoney:{code}" if kind == 0 else f"mirror{writer}:{code}",
            "url": url if kind in (0, 3) else own_url,
            "body_text": text + ("（财联社）" if kind == 2 and writer else ""),
            "fetched_at": later(writer),
        }
        if kind == 3:
            fields["id"] = f"url{writer}:{code}"
        fields["canonical_url"] = fields["url"]
        items.append(article(number, **fields))
    return items


def main(uri: str, database: str, writer: int, go_file: str, out: str) -> None:
    """Wait for the start signal, store this writer's copies, write its stats to ``out``."""
    crawler = make_crawler(
        NEWS_MONGO_URI=uri,
        NEWS_MONGO_DATABASE=database,
        NEWS_MONGO_BATCH_SIZE=4,
        NEWS_MONGO_FLUSH_SECONDS=0,
        NEWS_SPOOL_DIR=str(Path(out).with_suffix(".spool")),
    )
    items = copies(writer)
    random.Random(writer).shuffle(items)
    while not Path(go_file).exists():
        time.sleep(0.005)
    pipeline = open_pipeline(crawler)
    for item in items:
        pipeline.process_item(item)
    pipeline.close_spider()
    Path(out).write_text(json.dumps(store_stats(crawler)), "utf-8")


if __name__ == "__main__":
    uri_arg, database_arg, writer_arg, go_arg, out_arg = sys.argv[1:6]
    main(uri_arg, database_arg, int(writer_arg), go_arg, out_arg)
