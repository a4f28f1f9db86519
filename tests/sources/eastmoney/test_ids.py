"""East Money's ids: codes, infoCodes, article URLs, and codes found inside other text."""

from __future__ import annotations

import json

import pytest

from crawler.sources.eastmoney.ids import (
    article_url,
    code_in_link,
    code_in_text,
    info_code,
    native_id,
)
from tests.conftest import FIXTURES

EASTMONEY = FIXTURES / "eastmoney"


def test_real_infocode_and_code_pairs_map_to_one_native_id() -> None:
    items = json.loads(
        (EASTMONEY / "em_eminfo_FastNews_GetInfoList_items_2022-05-30.json").read_text()
    )
    for item in items:
        assert native_id(item["infoCode"]) == item["code"]
        assert native_id(item["code"]) == item["code"]
        assert info_code(item["code"]) == item["infoCode"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("202205202386046762", "202205202386046762"),
        ("NW202205202386046762", "202205202386046762"),
        (" NW202205202386046762 ", "202205202386046762"),
        (202205202386046762, "202205202386046762"),
        ("https://finance.eastmoney.com/a/202205202386046762.html", "202205202386046762"),
        ("http://stock.eastmoney.com/a/202205202386046762.html", "202205202386046762"),
        ("http://futures.eastmoney.com/a/202609243883852788.html?from=x", "202609243883852788"),
        ("http://finance.eastmoney.com/news/11060,202112082206672930.html", "202112082206672930"),
        ("http://127.0.0.1:8080/a/202205202386046762.html", "202205202386046762"),
        ("2022052023860467", None),
        ("NW2022052023860467621", None),
        ("https://finance.eastmoney.com/a/index.html", None),
        ("https://caifuhao.eastmoney.com/news/20220531173000000000001", None),
        ("", None),
        (None, None),
        ("http://[x/a/202205202386046762.html", None),  # urlsplit: Invalid IPv6 URL
        ("http://[::1/a/202205202386046762.html", None),
    ],
)
def test_native_id(value: object, expected: str | None) -> None:
    assert native_id(value) == expected


def test_article_url_is_the_site_s_own_unless_a_template_is_given() -> None:
    code = "202205202386046762"
    assert article_url(code) == f"https://finance.eastmoney.com/a/{code}.html"
    assert native_id(article_url(code)) == code
    assert (
        article_url(code, "http://127.0.0.1:1/a/{code}.html") == f"http://127.0.0.1:1/a/{code}.html"
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2022-05-20-NW202205202386046762", "202205202386046762"),
        ("2021-12-08-202112082206672930__old_post_fe8c3e7", "202112082206672930"),
        ("-202205262391921712", "202205262391921712"),
        ("x202205202386046762", None),  # inside a longer word
        ("2022052023860467621", None),  # 19 digits
        ("2022-05-20-post", None),
    ],
)
def test_code_in_text(text: str, code: str | None) -> None:
    assert code_in_text(text) == code


@pytest.mark.parametrize(
    ("url", "code"),
    [
        (
            "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202205202386046762",
            "202205202386046762",
        ),
        ("http://finance.eastmoney.com/news/11060,202112082206672930.html", "202112082206672930"),
        ("https://finance.eastmoney.com/a/202205202386046762.html", "202205202386046762"),
        ("https://finance.eastmoney.com/a/2022052023860467621.html", None),
        ("http://example.com/1.html", None),
    ],
)
def test_code_in_link(url: str, code: str | None) -> None:
    assert code_in_link(url) == code
