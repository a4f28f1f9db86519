"""docs/examples/watch_articles.py, the consumers' example: its polling fallback and its lines."""

from __future__ import annotations

import importlib.util
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import mongomock

from tests.conftest import ROOT

if TYPE_CHECKING:
    from types import ModuleType


def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "watch_articles", ROOT / "docs" / "examples" / "watch_articles.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_polling_prints_each_new_story_once() -> None:
    watch = example()
    articles = mongomock.MongoClient()["finews"]["articles"]
    start = datetime(2026, 12, 3, 6, 0)

    def store(n: int, seconds: float) -> None:
        seen = start + timedelta(seconds=seconds)
        articles.insert_one(
            {
                "_id": f"eastmoney:{n}",
                "title": f"快讯{n}",
                "source": "eastmoney",
                "published_at": seen - timedelta(seconds=8),
                "first_seen_at": seen,
            }
        )

    printed: dict[str, datetime] = {}
    store(1, -30)  # stored before the watcher looked, within the overlap: seen once
    assert [s["_id"] for s in watch.poll_once(articles, start, printed)] == ["eastmoney:1"]
    store(2, 5)
    store(3, -10)  # fetched earlier, stored later (a batch): not missed
    assert [s["_id"] for s in watch.poll_once(articles, start, printed)] == [
        "eastmoney:3",
        "eastmoney:2",
    ]
    assert watch.poll_once(articles, start, printed) == []
    later = start + timedelta(hours=1)
    assert watch.poll_once(articles, later, printed) == []
    assert printed == {}  # forgotten past the overlap
    (story,) = articles.find({"_id": "eastmoney:2"})
    assert watch.line(story) == "2026-12-03 06:00:05 UTC    +8s eastmoney: 快讯2"
