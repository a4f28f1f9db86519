"""What the in-process spider tests share: a storage stand-in, canned responses, callback runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.http import Request, TextResponse

from crawler.items import Article

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scrapy.http import Response


class FakeKnown:
    """Storage's answer: these article ids are stored."""

    def __init__(self, stored: Iterable[str] = ()) -> None:
        self.stored = set(stored)
        self.asked: list[list[str]] = []

    def unknown(self, ids: Iterable[str]) -> set[str]:
        ids = list(ids)
        self.asked.append(ids)
        return {i for i in ids if i not in self.stored}

    def close(self) -> None:
        pass


def json_response(text: str, url: str = "https://np-listapi.eastmoney.com/x") -> TextResponse:
    return TextResponse(
        url,
        body=text.encode("utf-8"),
        headers={"Content-Type": "application/json"},
        request=Request(url),
    )


def run(callback: Any, response: Response, **kwargs: Any) -> tuple[list[Request], list[Article]]:
    output = list(callback(response, **kwargs))
    requests = [o for o in output if isinstance(o, Request)]
    items = [o for o in output if isinstance(o, Article)]
    assert len(requests) + len(items) == len(output)
    return requests, items
