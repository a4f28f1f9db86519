from __future__ import annotations

import pytest

from crawler.normalize.identity import article_id, canonicalize


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "HTTP://Finance.EastMoney.com/a/202205202386046762.html?utm_source=wx&b=2&a=1&spm=3#top",
            "http://finance.eastmoney.com/a/202205202386046762.html?a=1&b=2",
        ),
        (
            "https://www.cmrnn.com.cn/content/2026-04/20/content_288841.html",
            "https://www.cmrnn.com.cn/content/2026-04/20/content_288841.html",
        ),
        ("https://a.cn/x?from=timeline&id=7&share_token=z", "https://a.cn/x?id=7"),
        (
            "  https://a.cn/中文/页面.html  ",
            "https://a.cn/%E4%B8%AD%E6%96%87/%E9%A1%B5%E9%9D%A2.html",
        ),
        ("javascript:alert(1)", None),
        ("/a/relative.html", None),
        ("http://[::1/a", None),
        ("", None),
    ],
)
def test_canonicalize(url: str, canonical: str | None) -> None:
    assert canonicalize(url) == canonical


def test_article_id_prefers_the_native_id() -> None:
    assert (
        article_id("eastmoney", "202205202386046762", "https://x") == "eastmoney:202205202386046762"
    )
    by_url = article_id("cmrnn", None, "https://a.cn/1.html")
    assert by_url is not None
    assert by_url.startswith("url:")
    assert by_url == article_id("other", " ", "https://a.cn/1.html")
    assert article_id("cmrnn", None, None) is None
