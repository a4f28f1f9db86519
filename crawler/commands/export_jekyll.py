"""``scrapy export-jekyll --out DIR``: write the stored articles as the original's Jekyll posts."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.jekyll import DEFAULT_SITE_URL, export_posts
from crawler.normalize.dates import parse_publish_time
from crawler.store.mongo import StorageConfig, articles, connect, release_client

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace

logger = logging.getLogger(__name__)


def export_query(since: datetime | None, source: str | None) -> dict[str, Any]:
    """Return the MongoDB filter: stored or changed ``--since``, of ``--source``."""
    query: dict[str, Any] = {}
    if since is not None:
        query["$or"] = [{"updated_at": {"$gte": since}}, {"first_seen_at": {"$gte": since}}]
    if source:
        query["source"] = source
    return query


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self) -> str:
        return "--out DIR [--since T] [--source S] [--site-url URL] [--pages DIR]"

    def short_desc(self) -> str:
        return "Write stored articles as Jekyll posts (only new or changed ones)"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--out", required=True, help="directory of the posts (_posts)")
        parser.add_argument("--since", help="only articles stored or changed since this time")
        parser.add_argument("--source", help="only articles of this source key")
        parser.add_argument("--site-url", default=DEFAULT_SITE_URL, help="site of the back links")
        parser.add_argument("--pages", help="directory for the category index pages")

    def run(self, args: list[str], opts: Namespace) -> None:
        assert self.settings is not None
        since = None
        if opts.since:
            parsed = parse_publish_time(opts.since, now=datetime.now(UTC))
            if parsed is None:
                raise UsageError(f"cannot read --since {opts.since!r}")
            since = parsed.at
        config = StorageConfig.from_settings(self.settings)
        client = connect(config)
        try:
            docs = articles(client, config).find(export_query(since, opts.source))
            report = export_posts(
                docs, Path(opts.out), opts.site_url, Path(opts.pages) if opts.pages else None
            )
        finally:
            release_client(config)
        skipped = ", ".join(f"{reason}={n}" for reason, n in sorted(report.skipped.items()))
        print(
            f"export-jekyll: written={len(report.written)} unchanged={report.unchanged} "
            f"removed={len(report.removed)} skipped={sum(report.skipped.values())}"
            + (f" ({skipped})" if skipped else "")
        )
