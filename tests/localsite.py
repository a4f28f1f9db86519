"""A paged news site on the local mock server, and its ``sources.toml`` entry, for whole crawls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.spiders.test_site import HTML, listing_page

if TYPE_CHECKING:
    from tests.mockserver import MockServer


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
