"""A local East Money-like site for the crawl benchmark, served from its own process.

    python bench/site.py --articles 20000 [--seed 1] [--port 0]

It serves the column API (``/comm/web/getNewsByColumns``, the ``getNewsByColumns`` JSON shape,
newest first, any column) and ``--articles`` article pages (``/a/<code>.html``) in the current
layout: the template of ``tests/fixtures/eastmoney/reconstruct.py`` around bodies drawn from the
real bodies in ``tests/fixtures`` (the original system's 165 posts, the seed post, East Money's
ContentBody block). Each body is a deterministic sample of those real paragraphs; about 1 in 20
articles repeats an earlier body exactly and 1 in 20 nearly (a short line added), published
minutes apart, so deduplication has real work. Same seed, same site.

Pages are rendered once into memory and served by a minimal asyncio HTTP/1.1 server (keep-alive,
GET only), so the crawler, not the site, is the bottleneck. ``GET /_bench/stats`` answers the
requests served by kind (``listing``, ``article``, ``other``) and the process's CPU seconds;
``?reset=1`` zeroes the counts. When listening it prints one line:
``site: port=P articles=N exact_duplicates=E near_duplicates=D``.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import importlib.util
import json
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.jekyll import BrokenPost, parse_post  # noqa: E402
from crawler.vocabulary import CHINA_TZ as CHINA  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
COLUMN_API_PATH = "/comm/web/getNewsByColumns"
STATS_PATH = "/_bench/stats"
NEWEST = datetime(2026, 1, 10, 10, 0, tzinfo=CHINA)
SPACING = timedelta(seconds=20)  # between consecutive articles' publish times
MAX_PAGE_SIZE = 100
DUPLICATE_EVERY = 20  # 1 in 20 articles repeats a recent body exactly, 1 in 20 nearly
NEAR_LINE = "<p>记者注意到，上述消息公布后，相关板块当日交易平稳。</p>"  # invented
# Publishers named in the real material (posts, seed, ContentBody block).
PUBLISHERS = ("中国市场监管新闻网", "第一财经", "财联社", "证券时报网", "中国证券报", "上海证券报")
_PARAGRAPH_RE = re.compile(r"<p\b[^>]*>.*?</p>", re.DOTALL | re.IGNORECASE)
HTML_TYPE = b"text/html; charset=utf-8"
JSON_TYPE = b"application/json; charset=utf-8"


def _load_reconstruct() -> ModuleType:
    """Import the fixtures' reconstruction script (it holds the current page template)."""
    path = FIXTURES / "eastmoney" / "reconstruct.py"
    spec = importlib.util.spec_from_file_location("eastmoney_reconstruct", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CURRENT_PAGE: str = _load_reconstruct().CURRENT_PAGE


def real_material() -> tuple[list[str], list[str]]:
    """Return the real titles and the real body paragraphs (as HTML) the repository holds."""
    paths = sorted((FIXTURES / "finews-posts" / "posts").glob("*.md"))
    paths.append(FIXTURES / "seed" / "2022-05-20-NW202205202386046762.md")
    titles: list[str] = []
    paragraphs: list[str] = []
    for path in paths:
        try:
            post = parse_post(path.read_text(encoding="utf-8"))
        except BrokenPost:
            continue
        if post.title:
            titles.append(post.title)
        found = _PARAGRAPH_RE.findall(post.body)
        if not found:  # flash posts: plain text lines
            found = [f"<p>{html.escape(line.strip())}</p>" for line in post.body.splitlines()]
        paragraphs.extend(p for p in found if len(p) > 12)
    block = (FIXTURES / "bodies" / "eastmoney_ContentBody_fragment_2026-01.html").read_text()
    paragraphs.extend(_PARAGRAPH_RE.findall(block))
    return titles, paragraphs


@dataclass(frozen=True, slots=True)
class Story:
    """One article of the site."""

    code: str
    title: str
    published: datetime
    publisher: str


class Site:
    """The generated site: listing entries and pre-rendered article pages."""

    def __init__(self, articles: int, seed: int) -> None:
        rng = random.Random(seed)
        titles, paragraphs = real_material()
        self.stories: list[Story] = []
        self.pages: dict[str, bytes] = {}
        self.exact = self.near = 0
        bodies: list[str] = []
        for n in range(articles):
            code = f"20260110{n:010d}"
            published = NEWEST - n * SPACING
            kind = rng.randrange(DUPLICATE_EVERY)
            if n >= 10 and kind == 0:
                body = bodies[n - rng.randrange(1, 10)]
                self.exact += 1
            elif n >= 10 and kind == 1:
                body = bodies[n - rng.randrange(1, 10)].replace("\n</div>", f"\n{NEAR_LINE}</div>")
                self.near += 1
            else:
                chosen = rng.sample(paragraphs, rng.randint(3, 9))
                body = '<div class="txtinfos" id="ContentBody">\n' + "\n".join(chosen) + "\n</div>"
            bodies.append(body)
            story = Story(code, rng.choice(titles), published, rng.choice(PUBLISHERS))
            self.stories.append(story)
            self.pages[f"/a/{code}.html"] = self.render(story, body, rng)
        self.article_bytes = sum(len(page) for page in self.pages.values())

    @staticmethod
    def render(story: Story, body: str, rng: random.Random) -> bytes:
        """Return an article page in the current layout."""
        return CURRENT_PAGE.format(
            title=html.escape(story.title),
            time=story.published.strftime("%Y年%m月%d日 %H:%M"),
            source=story.publisher,
            author="",
            sublab="",
            digest="",
            body=body,
            editor=f"DF{rng.randrange(1, 300):03d}",
        ).encode()

    @lru_cache(maxsize=1024)  # noqa: B019 - one site per process, pages asked again per crawl
    def listing(self, host: str, page_index: int, page_size: int) -> bytes:
        """Return one ``getNewsByColumns`` page (every column lists the same stories)."""
        start = (page_index - 1) * page_size
        records = [
            {
                "code": s.code,
                "showTime": s.published.strftime("%Y-%m-%d %H:%M:%S"),
                "title": s.title,
                "mediaName": s.publisher,
                "summary": "",
                "image": "",
                "url": f"http://{host}/a/{s.code}.html",
                "uniqueUrl": f"http://{host}/a/{s.code}.html",
                "Np_dst": "",
            }
            for s in self.stories[start : start + page_size]
        ]
        data = {
            "page_index": page_index,
            "page_size": page_size,
            "totle_hits": len(self.stories),
            "list": records,
        }
        payload = {"code": "1", "message": "success", "data": data}
        return json.dumps(payload, ensure_ascii=False).encode()


class Server:
    """Answer requests from the site; count them by kind."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.counts: Counter[str] = Counter()

    def respond(self, target: str, host: str) -> tuple[int, bytes, bytes]:
        """Return the status, content type and body answering ``target``."""
        page = self.site.pages.get(target)
        if page is not None:
            self.counts["article"] += 1
            return 200, HTML_TYPE, page
        parts = urlsplit(target)
        query = parse_qs(parts.query)
        if parts.path == COLUMN_API_PATH:
            self.counts["listing"] += 1
            index = max(1, int(query.get("page_index", ["1"])[0]))
            size = min(MAX_PAGE_SIZE, max(1, int(query.get("page_size", ["20"])[0])))
            return 200, JSON_TYPE, self.site.listing(host, index, size)
        if parts.path == STATS_PATH:
            stats = {**self.counts, "cpu_s": round(time.process_time(), 3)}
            if query.get("reset"):
                self.counts.clear()
            return 200, JSON_TYPE, json.dumps(stats).encode()
        self.counts["other"] += 1
        return 404, b"text/plain", b"not found"


class HttpProtocol(asyncio.Protocol):
    """Just enough HTTP/1.1 for a crawler: GET requests, keep-alive, Content-Length."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            lines = head.decode("latin-1").split("\r\n")
            target = lines[0].split(" ")[1]
            headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
            status, kind, body = self.server.respond(target, headers.get("host", ""))
            close = headers.get("connection") == "close"
            self.transport.write(
                b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n"
                % (
                    status,
                    b"OK" if status == 200 else b"Not Found",
                    kind,
                    len(body),
                    b"Connection: close\r\n" if close else b"",
                )
                + body
            )
            if close:
                self.transport.close()
                return


async def serve(site: Site, port: int) -> None:
    """Serve ``site`` on 127.0.0.1 until killed."""
    server = Server(site)
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(lambda: HttpProtocol(server), "127.0.0.1", port)
    bound = listener.sockets[0].getsockname()[1]
    print(
        f"site: port={bound} articles={len(site.stories)} exact_duplicates={site.exact} "
        f"near_duplicates={site.near} article_mb={site.article_bytes / 2**20:.1f}",
        flush=True,
    )
    async with listener:
        await listener.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(Site(args.articles, args.seed), args.port))


if __name__ == "__main__":
    main()
