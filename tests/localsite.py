"""A paged news site on the local mock server, and its ``sources.toml`` entry, for whole crawls:
its pages (random Chinese bodies, distinct per seed), listings and the helpers that serve them."""

from __future__ import annotations

import html
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.mockserver import MockServer


HTML = {"Content-Type": "text/html; charset=utf-8"}
XML = {"Content-Type": "application/xml"}
HANZI = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体"


def paragraphs(seed: str) -> str:
    """Three distinct paragraphs of random Chinese (distinct SimHashes per seed)."""
    rng = random.Random(seed)
    return "".join(
        "<p>" + "".join(rng.choice(HANZI) for _ in range(120)) + "。</p>" for _ in range(3)
    )


def article_page(title: str, shown: str | None, seed: str) -> bytes:
    """A plain news page: headline, time line (when ``shown``), body."""
    info = f"<div class='info'>{shown}</div>" if shown else ""
    return (
        f"<html><head><meta charset='utf-8'><title>{title}_网站</title></head><body>"
        f"<div class='nav'><a href='/'>首页</a></div><h1>{html.escape(title)}</h1>{info}"
        f"<div class='content'>{paragraphs(seed)}</div></body></html>"
    ).encode()


def listing_page(links: list[str], next_href: str | None) -> bytes:
    """An HTML listing of ``links``, with a next-page link when given."""
    items = "".join(f"<li><a href='{link}'>标题{i}</a></li>" for i, link in enumerate(links))
    more = f"<a class='next' href='{next_href}'>下一页</a>" if next_href else ""
    return f"<html><body><ul class='list'>{items}</ul>{more}</body></html>".encode()


def serve_listing(
    server: MockServer, paths: list[str], per_page: int, prefix: str = "/list"
) -> str:
    """Serve ``paths`` in order as listing pages ``<prefix>/1.html``… of ``per_page`` links, each
    linking the next; return the first page's URL."""
    pages = max(1, -(-len(paths) // per_page))
    for page in range(1, pages + 1):
        links = paths[(page - 1) * per_page : page * per_page]
        more = f"{prefix}/{page + 1}.html" if page < pages else None
        server.routes[f"{prefix}/{page}.html"] = (200, HTML, listing_page(links, more))
    return server.url(f"{prefix}/1.html")


def site_source(
    name: str, publisher: str, start_url: str | list[str], delay: float, concurrency: int
) -> str:
    """Return the ``sources.toml`` entry of a site served by :func:`serve_listing` (one listing
    or several)."""
    starts = ", ".join(
        f'"{url}"' for url in ([start_url] if isinstance(start_url, str) else start_url)
    )
    return f"""
[[source]]
name = "{name}"
publisher = "{publisher}"
start_urls = [{starts}]
article_links = "ul.list a"
article_pattern = '/news/\\d+\\.html$'
next_page = "a.next"
max_pages = 50
download_delay = {delay}
concurrency = {concurrency}
"""
