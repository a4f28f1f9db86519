"""KnownArticles: the read side of incremental crawling."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from crawler.incremental import KnownArticles
from tests.conftest import make_crawler
from tests.storage_support import article, mongo_client, open_pipeline, storage_settings

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


class CountingClient:
    """A mongomock client that counts the queries made through it."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.finds = 0
        collection = client["finews"]["articles"]
        real_find = collection.find

        def find(*args: Any, **kwargs: Any) -> Any:
            self.finds += 1
            return real_find(*args, **kwargs)

        collection.find = find

    def __getitem__(self, name: str) -> Any:
        return self.client[name]

    def close(self) -> None:
        """Nothing to close."""


def stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *numbers: int
) -> tuple[Any, dict[str, Any]]:
    """Store ``article(n)`` for each of ``numbers`` on mongomock; return the client and the
    storage settings."""
    client = mongo_client(monkeypatch)
    settings = storage_settings(client, tmp_path)
    pipeline = open_pipeline(make_crawler(**settings))
    for number in numbers:
        pipeline.process_item(article(number))
    pipeline.close_spider()
    return client, settings


def test_unknown_asks_once_and_knows_merged_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, settings = stored(tmp_path, monkeypatch, 1, 2)  # 2: the same text, a sighting of 1

    counting = CountingClient(client)
    known = KnownArticles.from_crawler(
        make_crawler(**{**settings, "NEWS_MONGO_CLIENT_FACTORY": lambda uri, **kw: counting})
    )
    ids = [f"eastmoney:20261126000000000{n}" for n in (1, 2, 3)]
    assert known.unknown(ids) == {"eastmoney:202611260000000003"}
    assert known.unknown(iter(ids[2:])) == {"eastmoney:202611260000000003"}
    assert known.unknown([]) == set()
    assert counting.finds == 2
    known.close()


def test_stored_ids_are_remembered_within_a_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, settings = stored(tmp_path, monkeypatch, 1, 3, 5)
    counting = CountingClient(client)
    settings.update(NEWS_MONGO_CLIENT_FACTORY=lambda uri, **kw: counting, NEWS_KNOWN_CACHE_SIZE=2)
    known = KnownArticles.from_crawler(make_crawler(**settings))
    ids = [str(article(n).id) for n in (1, 3, 5)]
    for identity in (ids[0], ids[1], ids[0]):
        assert known.unknown([identity]) == set()
    assert counting.finds == 2  # the second ask of the first id costs no query
    assert known.unknown([ids[2]]) == set()  # remembered; forgets the least recent, the second
    assert list(known.cache) == [ids[0], ids[2]]
    assert known.unknown([ids[1]]) == set()
    assert counting.finds == 4
    assert len(known.cache) == 2
    known.close()


def test_storage_off_means_everything_is_unknown() -> None:
    known = KnownArticles.from_crawler(make_crawler(NEWS_MONGO_URI=""))
    assert known.unknown(["a", "b"]) == {"a", "b"}
    known.close()


def test_unreachable_storage_means_everything_is_unknown(caplog: pytest.LogCaptureFixture) -> None:
    known = KnownArticles.from_crawler(
        make_crawler(
            NEWS_MONGO_URI="mongodb://finews:s3cret@127.0.0.1:1/", NEWS_MONGO_TIMEOUT_MS=50
        )
    )
    with caplog.at_level(logging.WARNING):
        assert known.unknown(["a", "b"]) == {"a", "b"}
        assert known.unknown(["c"]) == {"c"}
    assert caplog.text.count("cannot say which articles are stored") == 1
    assert "s3cret" not in caplog.text
    known.close()


def test_an_srv_uri_dns_cannot_resolve_means_everything_is_unknown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Building an mongodb+srv:// client resolves its host: here DNS fails at once (.invalid).
    uri = "mongodb+srv://finews:s3cret@cluster.nonexistent.invalid/?authSource=admin"
    known = KnownArticles.from_crawler(make_crawler(NEWS_MONGO_URI=uri))
    with caplog.at_level(logging.WARNING):
        assert known.unknown(["a", "b"]) == {"a", "b"}
        assert known.unknown(["c"]) == {"c"}
    assert caplog.text.count("cannot say which articles are stored") == 1
    assert "s3cret" not in caplog.text
    known.close()
