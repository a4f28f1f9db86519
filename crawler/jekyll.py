"""The original system's Jekyll posts: write one from a stored article, read one back.

The format is that of the original finews script (``tests/fixtures/seed/``); every layout rule it
followed is a constant or a small function here, so export and import stay each other's inverse:

- front matter ``layout``, double-quoted ``title``, ``date`` in the source's offset (``+0800``),
  ``categories`` (publisher slug, or ``emnews`` for rolling news), ``tags`` (publisher + 新闻, or
  东财滚动新闻); then the body, a blank line, ``<link>``, a blank line and the two back links;
- media posts start the body right after the front matter; rolling-news posts start with a
  ``> digest`` line (the feed's digest after its last ``】``) or an empty line, then a blank line;
- East Money's credit lines, which the attribution stage moved into fields, are appended again the
  way East Money printed them: ``<p>□author</p>`` then ``<p class="em_media">（文章来源：X）</p>``,
  right after the last paragraph;
- media posts link to the original's share page by East Money ``infoCode`` (``NW`` + code); rolling
  posts (and articles of other sources) link to the article's own URL;
- Jekyll renders posts with Liquid: scraped text holding Liquid markup (``{{`` or ``{%``) is written
  inside ``{% raw %}…{% endraw %}`` (the body, the digest, the tag in the back link), and read
  back without it; text without such markup is written as is, as the original did.
"""

from __future__ import annotations

import html
import json
import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from crawler.items import Article
from crawler.normalize.dates import in_source_zone
from crawler.sources.eastmoney import SOURCE as EASTMONEY
from crawler.sources.eastmoney import article_url, code_in_link, code_in_text, info_code

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from pathlib import Path

logger = logging.getLogger(__name__)

DEFAULT_SITE_URL = "//finews.withounder.com"
SHARE_URL = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode={info_code}"
ROLLING_FEED = "rolling"
MEDIA_FEED = "media"
ROLLING_CATEGORY = "emnews"
ROLLING_TAG = "东财滚动新闻"
TAG_SUFFIX = "新闻"
HOME_LINK = "[返回首页]({site}/)"
CATEGORY_LINK = "[返回{tag}]({site}/category/{category}.html)"
ROLLING_LINK = "[返回{tag}]({site}/emnews/)"
LINK_SEPARATOR = "｜"
# Which post file each exported article is in, kept beside the posts (Jekyll skips dotfiles).
MANIFEST = ".finews-export.json"


class BrokenPost(ValueError):
    """A post that cannot become an article; the message says why."""


@dataclass(frozen=True)
class Post:
    """One Jekyll post: its file name, text and the category it is listed under."""

    filename: str
    text: str
    category: str
    tag: str


# --- YAML -----------------------------------------------------------------------------------

_YAML_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_YAML_UNESCAPES = {
    "\\": "\\", '"': '"', "/": "/", " ": " ", "n": "\n", "t": "\t", "r": "\r", "0": "\0",
    "a": "\a", "b": "\b", "e": "\x1b", "f": "\f", "v": "\v", "N": "\x85", "_": "\xa0",
    "L": "\u2028", "P": "\u2029",
}  # fmt: skip
_ESCAPE = r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|[\\\"/ ntr0abefvN_LP])"
_DOUBLE_QUOTED = re.compile(rf'(?:[^"\\]|{_ESCAPE})*')
_YAML_ESCAPE_RE = re.compile(_ESCAPE)
# A plain (unquoted) scalar that YAML 1.1 reads back as the same string: word characters with a
# letter, no indicator, and nothing YAML would take for a boolean, null or number.
_PLAIN_SAFE = re.compile(r"(?=.*[^\W\d_])\w[\w·-]*")
_PLAIN_RESERVED = re.compile(
    r"y|n|yes|no|on|off|true|false|null|[-+]?0[xob][0-9a-f_]+|[-+]?\.?inf|\.nan", re.I
)


def _is_yaml_printable(char: str) -> bool:
    """Tell whether YAML may carry ``char`` unescaped inside a double-quoted scalar on one line."""
    if char in "\x85\u2028\u2029\ufeff":
        return False
    return char == " " or unicodedata.category(char) not in {"Cc", "Cs", "Co", "Cn"}


def yaml_quote(text: str) -> str:
    """Return ``text`` as a one-line YAML double-quoted scalar."""
    out = []
    for char in text:
        if char in _YAML_ESCAPES:
            out.append(_YAML_ESCAPES[char])
        elif _is_yaml_printable(char):
            out.append(char)
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def yaml_scalar(text: str) -> str:
    """Return ``text`` unquoted, as the original wrote it, when YAML reads it back unchanged."""
    if _PLAIN_SAFE.fullmatch(text) and not _PLAIN_RESERVED.fullmatch(text):
        return text
    return yaml_quote(text)


def _unescape(match: re.Match[str]) -> str:
    """Return the character a YAML double-quoted escape stands for."""
    code = match[1]
    if len(code) > 1:
        return chr(int(code[1:], 16))
    return _YAML_UNESCAPES[code]


def yaml_unquote(value: str) -> str:
    """Read a front matter value: YAML quoted scalars are decoded; the original's unescaped
    quotes (invalid YAML) are kept as written between the outer quotes."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        inner = value[1:-1]
        if _DOUBLE_QUOTED.fullmatch(inner):
            return _YAML_ESCAPE_RE.sub(_unescape, inner)
        return inner
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value


# --- Liquid ---------------------------------------------------------------------------------

RAW_OPEN = "{% raw %}"
RAW_CLOSE = "{% endraw %}"
# An ``{% endraw %}`` in the text would end the raw block early: its ``{%`` is written as a
# Liquid string between two raw blocks instead, and read back as ``{%``.
_RAW_BREAK = RAW_CLOSE + '{{ "{%" }}' + RAW_OPEN
_LIQUID_MARKUP = re.compile(r"\{[{%]")
_ENDRAW_START = re.compile(r"\{%(?=-?\s*endraw)")


def liquid_escape(text: str) -> str:
    """Return ``text`` so that Liquid prints it unchanged: as is when it holds no Liquid markup,
    else inside ``{% raw %}…{% endraw %}``."""
    if not _LIQUID_MARKUP.search(text):
        return text
    return RAW_OPEN + _ENDRAW_START.sub(lambda _: _RAW_BREAK, text) + RAW_CLOSE


def liquid_unescape(text: str) -> str:
    """Return the text :func:`liquid_escape` wrote (other text unchanged)."""
    if not (text.startswith(RAW_OPEN) and text.endswith(RAW_CLOSE)):
        return text
    return text[len(RAW_OPEN) : -len(RAW_CLOSE)].replace(_RAW_BREAK, "{%")


# --- export ---------------------------------------------------------------------------------


def _as_utc(moment: datetime) -> datetime:
    """Return ``moment`` aware; MongoDB hands back naive UTC datetimes."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def skip_reason(doc: Mapping[str, Any]) -> str | None:
    """Return why a stored article cannot become a post (``missing_title``…), else ``None``."""
    if not (doc.get("title") or "").strip():
        return "missing_title"
    if not isinstance(doc.get("published_at"), datetime):
        return "missing_date"
    return None


def is_rolling(doc: Mapping[str, Any]) -> bool:
    """Tell whether the article came from East Money's rolling news (the original's type=102)."""
    return doc.get("feed") == ROLLING_FEED


def post_time(doc: Mapping[str, Any]) -> datetime:
    """Return the publish time at the offset the source printed it in."""
    return in_source_zone(_as_utc(doc["published_at"]), doc.get("published_tz"))


def post_slug(doc: Mapping[str, Any]) -> str:
    """Return the id part of the file name: East Money's id (rolling) or infoCode, else ``_id``."""
    code = doc.get("native_id")
    if doc.get("source") == EASTMONEY and code:
        return code if is_rolling(doc) else info_code(code)
    return re.sub(r"[^\w.-]", "-", str(doc["_id"]))


def post_category(doc: Mapping[str, Any]) -> tuple[str, str]:
    """Return the post's category and tag."""
    if is_rolling(doc):
        return ROLLING_CATEGORY, ROLLING_TAG
    name = doc.get("publisher") or doc["source"]
    return doc.get("publisher_slug") or doc["source"], name + TAG_SUFFIX


def digest_line(summary: str | None) -> str | None:
    """Return the ``> digest`` text: the summary after its last ``】``, on one line."""
    if not summary:
        return None
    digest = " ".join(summary.rsplit("】", 1)[-1].split())
    return digest or None


def credit_lines(doc: Mapping[str, Any]) -> str:
    """Return East Money's credit paragraphs for the article's authors and publisher."""
    lines = [f"<p>□{html.escape(author, quote=False)}</p>" for author in doc.get("authors") or []]
    if doc.get("publisher"):
        publisher = html.escape(doc["publisher"], quote=False)
        lines.append(f'<p class="em_media">（文章来源：{publisher}）</p>')
    return "".join(lines)


def post_link(doc: Mapping[str, Any]) -> str:
    """Return the link under the body: the original's share page for media news, else the URL."""
    if doc.get("source") == EASTMONEY and doc.get("native_id") and not is_rolling(doc):
        return SHARE_URL.format(info_code=info_code(doc["native_id"]))
    return doc.get("url") or ""


def back_links(category: str, tag: str, site_url: str) -> str:
    """Return the two back links: to the category's page and to the home page."""
    site = site_url.rstrip("/")
    template = ROLLING_LINK if category == ROLLING_CATEGORY else CATEGORY_LINK
    first = template.format(tag=liquid_escape(tag), site=site, category=category)
    return first + LINK_SEPARATOR + HOME_LINK.format(site=site)


def format_post(doc: Mapping[str, Any], site_url: str = DEFAULT_SITE_URL) -> Post:
    """Return the post for a stored article (check :func:`skip_reason` first)."""
    when = post_time(doc)
    category, tag = post_category(doc)
    front = "\n".join(
        (
            "---",
            "layout: post",
            f"title: {yaml_quote(doc['title'])}",
            f"date: {when:%Y-%m-%d %H:%M:%S %z}",
            f"categories: {yaml_scalar(category)}",
            f"tags: {yaml_scalar(tag)}",
            "---",
        )
    )
    body = liquid_escape((doc.get("body_html") or "") + credit_lines(doc))
    if is_rolling(doc):
        digest = digest_line(doc.get("summary"))
        body = (f"> {liquid_escape(digest)}\n" if digest else "") + "\n" + body
    text = "\n".join(
        (front, body + "\n", f"<{post_link(doc)}>\n", back_links(category, tag, site_url))
    )
    return Post(f"{when:%Y-%m-%d}-{post_slug(doc)}.md", text, category, tag)


def category_page(category: str, tag: str) -> tuple[str, str]:
    """Return the file name and text of a category's index page, at the back link's address."""
    permalink = "/emnews/" if category == ROLLING_CATEGORY else f"/category/{category}.html"
    text = "\n".join(
        (
            "---",
            "layout: page",
            f"title: {yaml_quote(tag)}",
            f"permalink: {permalink}",
            "---",
            f"{{% for post in site.categories[{yaml_quote(category)}] %}}",
            "- {{ post.date | date: '%Y-%m-%d %H:%M' }} "
            "[{{ post.title }}]({{ post.url | relative_url }})",
            "{% endfor %}",
            "",
        )
    )
    return f"{category}.html", text


# --- import ---------------------------------------------------------------------------------

_FRONT = re.compile(r"\A(?:[ \t]*\n)*---[ \t]*\n(?P<front>.*?)\n---[ \t]*\n(?P<rest>.*)\Z", re.S)
_FIELD = re.compile(r"^(?P<key>[A-Za-z_]+):[ \t]?(?P<value>.*)$", re.M)
_TAIL = re.compile(r"\n\n<(?P<link>[^<>\s]*)>[ \t]*(?:\n\n?\[返回.*)?\n*\Z", re.S)


@dataclass(frozen=True)
class OldPost:
    """What a post says: its front matter fields, digest, body HTML and link."""

    title: str
    date: str
    categories: str
    tags: str
    digest: str | None
    body: str
    link: str | None


def parse_post(text: str) -> OldPost:
    """Split a post into front matter fields, the ``> digest`` line, body and link."""
    match = _FRONT.match(text.replace("\r\n", "\n"))
    if not match:
        raise BrokenPost("no front matter")
    fields = {m["key"]: m["value"] for m in _FIELD.finditer(match["front"])}
    rest = match["rest"]
    tail = _TAIL.search(rest)
    link = tail["link"] if tail else None
    body = rest[: tail.start()] if tail else rest
    digest = None
    if body.startswith("> "):
        first, _, body = body.partition("\n")
        digest = liquid_unescape(first[2:].strip()) or None
    return OldPost(
        title=yaml_unquote(fields.get("title", "")),
        date=yaml_unquote(fields.get("date", "")),
        categories=yaml_unquote(fields.get("categories", "")),
        tags=yaml_unquote(fields.get("tags", "")),
        digest=digest,
        body=liquid_unescape(body.strip("\n")),
        link=link or None,
    )


def post_code(filename: str, link: str | None) -> str | None:
    """Return East Money's 18-digit code from the file name, else from the link."""
    code = code_in_text(filename.removesuffix(".md"))
    if code is None and link:
        code = code_in_link(link)
    return code


def publisher_from_tag(tag: str) -> str | None:
    """Return the publisher a media post's tag names (``X新闻`` → ``X``)."""
    name = tag.strip().removesuffix(TAG_SUFFIX).strip()
    return name or None


def article_from_post(filename: str, text: str, fetched_at: datetime) -> Article:
    """Return the raw article an old post describes; raise :class:`BrokenPost` when it cannot."""
    post = parse_post(text)
    if not post.title.strip():
        raise BrokenPost("empty title")
    if not post.date.removesuffix("+0800").strip():
        raise BrokenPost("empty date")
    code = post_code(filename, post.link)
    if code is None:
        raise BrokenPost("no East Money id in the file name or link")
    if not post.body.strip():
        raise BrokenPost("empty body")
    rolling = post.tags == ROLLING_TAG or post.categories == ROLLING_CATEGORY
    link_is_article = bool(post.link) and rolling and "eastmoney.com" in (post.link or "")
    return Article(
        url=post.link if link_is_article else article_url(code),
        source=EASTMONEY,
        native_id=code,
        feed=ROLLING_FEED if rolling else MEDIA_FEED,
        fetched_at=fetched_at,
        via=EASTMONEY,
        summary=post.digest,
        title=post.title,
        published_text=post.date,
        body_html=post.body,
        publisher=None if rolling else publisher_from_tag(post.tags),
    )


# --- runs -----------------------------------------------------------------------------------


@dataclass
class ExportReport:
    """What an export did: posts written, left unchanged, removed, and articles skipped."""

    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def _write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless it already holds exactly that; tell whether it wrote."""
    data = text.encode("utf-8")
    if path.is_file() and path.read_bytes() == data:
        return False
    path.write_bytes(data)
    return True


def _read_manifest(out_dir: Path) -> dict[str, str]:
    """Return the article id → post file map of earlier exports to ``out_dir``."""
    path = out_dir / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def export_posts(
    docs: Iterable[Mapping[str, Any]],
    out_dir: Path,
    site_url: str = DEFAULT_SITE_URL,
    pages_dir: Path | None = None,
) -> ExportReport:
    """Write one post per stored article to ``out_dir``, only where new or changed.

    A post whose file name changed (a corrected date) replaces its old file, so an article never
    has two posts. With ``pages_dir``, each category seen gets its index page there.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(out_dir)
    report = ExportReport()
    categories: dict[str, str] = {}
    for doc in docs:
        reason = skip_reason(doc)
        if reason is not None:
            report.skipped[reason] += 1
            logger.warning("Not exporting %s: %s", doc.get("_id"), reason)
            continue
        post = format_post(doc, site_url)
        categories[post.category] = post.tag
        previous = manifest.get(doc["_id"])
        if previous and previous != post.filename and (out_dir / previous).is_file():
            (out_dir / previous).unlink()
            report.removed.append(previous)
        manifest[doc["_id"]] = post.filename
        if _write_if_changed(out_dir / post.filename, post.text):
            report.written.append(post.filename)
        else:
            report.unchanged += 1
    _write_if_changed(
        out_dir / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=0, sort_keys=True)
    )
    if pages_dir is not None:
        pages_dir.mkdir(parents=True, exist_ok=True)
        for category, tag in sorted(categories.items()):
            name, text = category_page(category, tag)
            _write_if_changed(pages_dir / name, text)
    return report


@dataclass
class ImportReport:
    """What an import did: posts read, articles stored, broken posts and pipeline drops."""

    read: int = 0
    imported: int = 0
    broken: list[tuple[str, str]] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)


def read_posts(
    paths: Iterable[Path], fetched_at: datetime, report: ImportReport
) -> Iterator[Article]:
    """Yield the article of each post; a broken post is recorded in ``report`` and skipped."""
    for path in paths:
        report.read += 1
        try:
            yield article_from_post(path.name, path.read_text(encoding="utf-8"), fetched_at)
        except (BrokenPost, UnicodeDecodeError) as exc:
            reason = str(exc) if isinstance(exc, BrokenPost) else "not UTF-8"
            report.broken.append((path.name, reason))
            logger.warning("Skipping broken post %s: %s", path.name, reason)


def post_paths(directory: Path) -> list[Path]:
    """Return the post files under ``directory``, in name order."""
    return sorted(path for path in directory.rglob("*.md") if path.is_file())


def import_posts(
    paths: Iterable[Path], process: Callable[[Article], Any], fetched_at: datetime
) -> ImportReport:
    """Turn each post into an article and hand it to ``process`` (the pipelines and storage)."""
    report = ImportReport()
    for article in read_posts(paths, fetched_at, report):
        try:
            process(article)
        except DropItem as exc:
            report.dropped[str(exc).split(":", 1)[0]] += 1
            continue
        report.imported += 1
    return report
