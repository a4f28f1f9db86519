"""Throughput of the normalisation chain over the real sample bodies (run by hand).

    python bench/normalize.py [--items 10000]

Feeds every real body in tests/fixtures (the original system's posts, the seed, East Money's
ContentBody block) through identity → title → dates → body → attribution → validate, repeated
to ``--items`` articles, on one core. Last line: ``normalize: items_per_s=N peak_rss_mb=M``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scrapy.exceptions import DropItem  # noqa: E402

from crawler.items import Article  # noqa: E402
from crawler.jekyll import BrokenPost, parse_post  # noqa: E402
from tests.conftest import FIXTURES, make_crawler  # noqa: E402

FETCHED = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


def sample_articles() -> list[Article]:
    """Return one raw article per real body the repository holds."""
    paths = sorted((FIXTURES / "finews-posts" / "posts").glob("*.md"))
    paths.append(FIXTURES / "seed" / "2022-05-20-NW202205202386046762.md")
    articles = []
    for n, path in enumerate(paths):
        try:
            post = parse_post(path.read_text(encoding="utf-8"))
        except BrokenPost:
            continue
        articles.append(
            Article(
                url=f"https://finance.eastmoney.com/a/{n}.html",
                source="eastmoney",
                native_id=str(n),
                fetched_at=FETCHED,
                title=post.title,
                published_text=post.date,
                body_html=post.body,
                via="eastmoney",
            )
        )
    block = (FIXTURES / "bodies" / "eastmoney_ContentBody_fragment_2026-01.html").read_text()
    articles.append(replace(articles[-1], native_id="block", body_html=block))
    return articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    args = parser.parse_args()

    from pipelines.chain import PipelineChain

    chain = PipelineChain(make_crawler())
    samples = sample_articles()
    raw_bytes = sum(len((a.body_html or "").encode()) for a in samples) / len(samples)
    kept = dropped = 0
    started_cpu, started = time.process_time(), time.perf_counter()
    for n in range(args.items):
        article = replace(samples[n % len(samples)], authors=[], sightings=[])
        try:
            chain.process(article)
            kept += 1
        except DropItem:
            dropped += 1
    wall = time.perf_counter() - started
    cpu = time.process_time() - started_cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"samples={len(samples)} mean_raw_body_bytes={raw_bytes:.0f}")
    print(f"items={args.items} kept={kept} dropped={dropped} wall_s={wall:.2f} cpu_s={cpu:.2f}")
    print(f"normalize: items_per_s={args.items / wall:.0f} peak_rss_mb={peak_mb:.0f}")


if __name__ == "__main__":
    main()
