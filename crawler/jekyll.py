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
- text from a page is text wherever it lands: front matter values are HTML-escaped; the digest
  and the tag in the back link are too, with Markdown's and Liquid's syntax characters written as
  character references; the body is sanitised again and its text gets the same references; Liquid
  markup left in the body's attribute values is written inside ``{% raw %}…{% endraw %}``. Text
  without any of these characters is written as is, as the original did;
- every file name built from stored values is reduced by :func:`safe_name` and checked to stay in
  its folder (:func:`inside`); a post that still cannot be written is skipped and counted.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from scrapy.exceptions import DropItem

from crawler.items import Article
from crawler.normalize.body import sanitize_body
from crawler.normalize.dates import in_source_zone
from crawler.sources.eastmoney import SOURCE as EASTMONEY
from crawler.sources.eastmoney import article_url, code_in_link, code_in_text, info_code
from crawler.sources.rules import own_publisher

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


# --- text from a page -----------------------------------------------------------------------

# Characters that open Markdown or kramdown syntax: links and images (``[…](…)``, ``[…]: url``),
# code, emphasis, tables, math, attribute lists ``{: onclick=…}`` and extensions ``{::…}``; and
# Liquid's ``{{``/``{%``. Written as character references, which Markdown never reads as syntax,
# Liquid ignores and the browser shows as the character.
_MARKDOWN_SYNTAX = str.maketrans({char: f"&#{ord(char)};" for char in "\\`*_[]{}|$~"})
# A line that starts like a heading, list, definition or setext line is a block: its marker too.
_BLOCK_MARKER = re.compile(r"^(?:\d{1,9}[.)]|[#+=:-])")
# A tag of serialised HTML (attribute values may hold ``>``); the text is what lies between tags.
_HTML_TAG = re.compile(r"""(<(?:[^<>"']|"[^"]*"|'[^']*')*>)""")


def html_text(text: str) -> str:
    """Return ``text`` as HTML text, quotes too: a front matter value a layout may print as is."""
    return html.escape(text)


def markdown_text(text: str) -> str:
    """Return ``text`` for a line of Markdown that shows it as it is: HTML-escaped, Markdown's and
    Liquid's syntax characters (and a leading block marker) as character references."""
    escaped = html.escape(text, quote=False).translate(_MARKDOWN_SYNTAX)
    return _BLOCK_MARKER.sub(lambda marker: marker[0][:-1] + f"&#{ord(marker[0][-1])};", escaped)


def markdown_html(fragment: str) -> str:
    """Return serialised HTML whose text Markdown leaves alone, even where it parses inside HTML
    (kramdown's ``parse_block_html``, span elements): syntax characters in text, never in tags,
    become character references."""
    pieces = _HTML_TAG.split(fragment)
    return "".join(
        piece if index % 2 else piece.translate(_MARKDOWN_SYNTAX)
        for index, piece in enumerate(pieces)
    )


# A web address, the only kind of link a post carries; what ends an autolink or opens Liquid in it.
_WEB_URL = re.compile(r"https?://[^/\s]", re.IGNORECASE)
_URL_UNSAFE = re.compile(r"""[\s"'<>\\^`{|}\x00-\x1f\x7f]""")


def link_url(url: str | None) -> str:
    """Return ``url`` for a ``<url>`` autolink when it is a web address (else ""), with the
    characters that could end the link or open Liquid percent-encoded."""
    if not url or not _WEB_URL.match(url):
        return ""
    return _URL_UNSAFE.sub(lambda char: quote(char[0], safe=""), url)


# --- file names -----------------------------------------------------------------------------

# Names Windows keeps for devices whatever their extension: ``CON.html`` is the console.
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in [*"0123456789", "¹", "²", "³"]}
)
# Letters and digits of any script, ``_``, ``.`` and ``-``: no separator, NUL, control, space or
# character that Windows refuses (``<>:"/\\|?*``).
_NAME_UNSAFE = re.compile(r"[^\w.-]|[\x00-\x1f]")
# File systems allow 255 bytes a name; a post's name adds its date and extension to this.
NAME_MAX_BYTES = 120
_NAME_HASH_CHARS = 10


class UnsafePath(ValueError):
    """A file name that would leave the folder it is written to."""


def safe_name(text: str, max_bytes: int = NAME_MAX_BYTES) -> str:
    """Return ``text`` as one safe file name part: letters, digits, ``_``, ``.`` and ``-``, no
    leading ``._-`` or trailing ``.-``, no Windows device name, at most ``max_bytes`` UTF-8 bytes.

    A name that had to change ends with a hash of ``text``, so two values never share a name; a
    name that is already safe is kept as it is.
    """
    # A leading ``_`` or ``.`` also hides a page from Jekyll.
    name = _NAME_UNSAFE.sub("-", text).lstrip("._-").rstrip(".-")
    stem, dot, extension = name.partition(".")
    reserved = stem.upper() in _WINDOWS_DEVICES
    if name and name == text and not reserved and len(name.encode("utf-8")) <= max_bytes:
        return name
    if reserved:  # the device name is the part before the first dot: the hash must join it
        name = f"{stem}-{extension}" if dot else stem
    digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:_NAME_HASH_CHARS]
    room = max_bytes - _NAME_HASH_CHARS - 1
    name = name.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip(".-")
    return f"{name}-{digest}" if name else digest


def inside(folder: Path, name: str) -> Path:
    """Return the path of ``name`` in ``folder``; raise :class:`UnsafePath` when it would resolve
    elsewhere (a separator, ``..``, an absolute path, a link leading out)."""
    root = folder.resolve()
    try:
        path = (root / name).resolve()
    except (OSError, ValueError) as exc:  # NUL, a link loop
        raise UnsafePath(f"{name!r}: {exc}") from exc
    if path.parent != root:
        raise UnsafePath(f"{name!r} is not a file of {root}")
    return path


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
    """Return the id part of the file name: East Money's id (rolling) or infoCode, else ``_id``
    (``source-id``), as a :func:`safe_name`."""
    code = doc.get("native_id")
    if doc.get("source") == EASTMONEY and code:
        return safe_name(code if is_rolling(doc) else info_code(code))
    return safe_name(str(doc["_id"]).replace(":", "-"))


def post_category(doc: Mapping[str, Any]) -> tuple[str, str]:
    """Return the post's category (a :func:`safe_name`: it names the category's page) and tag."""
    if is_rolling(doc):
        return ROLLING_CATEGORY, ROLLING_TAG
    source = doc.get("source") or ""
    name = doc.get("publisher") or source
    return safe_name(doc.get("publisher_slug") or source), name + TAG_SUFFIX


def digest_line(summary: str | None) -> str | None:
    """Return the ``> digest`` text: the summary after its last ``】``, on one line."""
    if not summary:
        return None
    digest = " ".join(summary.rsplit("】", 1)[-1].split())
    return digest or None


def credit_lines(doc: Mapping[str, Any]) -> str:
    """Return East Money's credit paragraphs for the article's authors and publisher."""
    lines = [f"<p>□{html.escape(author, quote=False)}</p>" for author in doc.get("authors") or []]
    # East Money's own desk stands in for a story that credits no one: the original printed no
    # credit line for those.
    own = own_publisher(doc.get("source"), doc.get("url"))
    if doc.get("publisher") and doc["publisher"] != own:
        publisher = html.escape(doc["publisher"], quote=False)
        lines.append(f'<p class="em_media">（文章来源：{publisher}）</p>')
    return "".join(lines)


def post_link(doc: Mapping[str, Any]) -> str:
    """Return the link under the body: the original's share page for media news, else the URL
    (see :func:`link_url`)."""
    if doc.get("source") == EASTMONEY and doc.get("native_id") and not is_rolling(doc):
        return SHARE_URL.format(info_code=post_slug(doc))
    return link_url(doc.get("url"))


def back_links(category: str, tag: str, site_url: str) -> str:
    """Return the two back links: to the category's page and to the home page."""
    site = site_url.rstrip("/")
    template = ROLLING_LINK if category == ROLLING_CATEGORY else CATEGORY_LINK
    first = template.format(tag=markdown_text(tag), site=site, category=category)
    return first + LINK_SEPARATOR + HOME_LINK.format(site=site)


def post_body(doc: Mapping[str, Any]) -> str:
    """Return the post's HTML: the body, sanitised again (stored bodies are already, so they stay
    as they are; a document written by other means gains nothing), and the credit lines."""
    body = sanitize_body(doc.get("body_html")) + credit_lines(doc)
    return liquid_escape(markdown_html(body))


def format_post(doc: Mapping[str, Any], site_url: str = DEFAULT_SITE_URL) -> Post:
    """Return the post for a stored article (check :func:`skip_reason` first)."""
    when = post_time(doc)
    category, tag = post_category(doc)
    front = "\n".join(
        (
            "---",
            "layout: post",
            f"title: {yaml_quote(html_text(doc['title']))}",
            f"date: {when:%Y-%m-%d %H:%M:%S %z}",
            f"categories: {yaml_scalar(category)}",
            f"tags: {yaml_scalar(html_text(tag))}",
            "---",
        )
    )
    body = post_body(doc)
    if is_rolling(doc):
        digest = digest_line(doc.get("summary"))
        body = (f"> {markdown_text(digest)}\n" if digest else "") + "\n" + body
    text = "\n".join(
        (front, body + "\n", f"<{post_link(doc)}>\n", back_links(category, tag, site_url))
    )
    return Post(f"{when:%Y-%m-%d}-{post_slug(doc)}.md", text, category, tag)


def category_page(category: str, tag: str) -> tuple[str, str]:
    """Return the file name and text of a category's index page, at the back link's address.

    The page is HTML (Jekyll converts no Markdown in it); titles are printed through
    ``escape_once``: safe for the HTML-escaped titles of exported posts without escaping them
    twice, and for the raw text of any other post.
    """
    permalink = "/emnews/" if category == ROLLING_CATEGORY else f"/category/{category}.html"
    text = "\n".join(
        (
            "---",
            "layout: page",
            f"title: {yaml_quote(html_text(tag))}",
            f"permalink: {permalink}",
            "---",
            "<ul>",
            f"{{% for post in site.categories[{yaml_quote(category)}] %}}",
            "<li>{{ post.date | date: '%Y-%m-%d %H:%M' }} "
            '<a href="{{ post.url | relative_url }}">{{ post.title | escape_once }}</a></li>',
            "{% endfor %}",
            "</ul>",
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
    """Split a post into front matter fields, the ``> digest`` line, body and link; title, tags
    and digest are read as the text they show (character references decoded), the body as HTML."""
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
        digest = html.unescape(liquid_unescape(first[2:].strip())) or None
    return OldPost(
        title=html.unescape(yaml_unquote(fields.get("title", ""))),
        date=yaml_unquote(fields.get("date", "")),
        categories=yaml_unquote(fields.get("categories", "")),
        tags=html.unescape(yaml_unquote(fields.get("tags", ""))),
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
    publisher = None if rolling else publisher_from_tag(post.tags)
    # The pipelines read titles and names as a page prints them (tags stripped, references
    # decoded): the post's text goes in escaped, so "<b>" in a title stays text both ways.
    return Article(
        url=post.link if link_is_article else article_url(code),
        source=EASTMONEY,
        native_id=code,
        feed=ROLLING_FEED if rolling else MEDIA_FEED,
        fetched_at=fetched_at,
        via=EASTMONEY,
        summary=post.digest and html.escape(post.digest, quote=False),
        title=html.escape(post.title, quote=False),
        published_text=post.date,
        body_html=post.body,
        publisher=publisher and html.escape(publisher, quote=False),
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


def _remove_previous(out_dir: Path, previous: str, report: ExportReport) -> None:
    """Remove an article's earlier post file, unless the manifest names a file elsewhere."""
    try:
        path = inside(out_dir, previous)
    except UnsafePath as exc:
        logger.warning("Not removing the earlier post %s", exc)
        return
    if path.is_file():
        path.unlink()
        report.removed.append(previous)


def _export_one(
    doc: Mapping[str, Any],
    out_dir: Path,
    site_url: str,
    manifest: dict[str, str],
    report: ExportReport,
) -> Post | str:
    """Write an article's post unless unchanged and record it; return the post, or why the
    article is skipped (:func:`skip_reason`, ``unsafe_path``, ``unwritable``)."""
    reason = skip_reason(doc)
    if reason is not None:
        return reason
    post = format_post(doc, site_url)
    try:
        written = _write_if_changed(inside(out_dir, post.filename), post.text)
    except (UnsafePath, OSError) as exc:
        logger.warning("Cannot write %s: %s", post.filename, exc)
        return "unsafe_path" if isinstance(exc, UnsafePath) else "unwritable"
    key = str(doc["_id"])
    previous = manifest.get(key)
    manifest[key] = post.filename
    if previous and previous != post.filename:
        _remove_previous(out_dir, previous, report)
    if written:
        report.written.append(post.filename)
    else:
        report.unchanged += 1
    return post


def export_posts(
    docs: Iterable[Mapping[str, Any]],
    out_dir: Path,
    site_url: str = DEFAULT_SITE_URL,
    pages_dir: Path | None = None,
) -> ExportReport:
    """Write one post per stored article to ``out_dir``, only where new or changed.

    A post whose file name changed (a corrected date) replaces its old file, so an article never
    has two posts. With ``pages_dir``, each category seen gets its index page there. A post that
    cannot be written (``unsafe_path``: it would leave its folder; ``unwritable``) is skipped,
    counted and logged; the manifest is written whatever happens.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(out_dir)
    report = ExportReport()
    categories: dict[str, str] = {}
    try:
        for doc in docs:
            outcome = _export_one(doc, out_dir, site_url, manifest, report)
            if isinstance(outcome, Post):
                categories[outcome.category] = outcome.tag
                continue
            report.skipped[outcome] += 1
            logger.warning("Not exporting %s: %s", doc.get("_id"), outcome)
    finally:
        _write_if_changed(
            inside(out_dir, MANIFEST),
            json.dumps(manifest, ensure_ascii=False, indent=0, sort_keys=True),
        )
    if pages_dir is not None:
        _write_pages(pages_dir, categories, report)
    return report


def _write_pages(pages_dir: Path, categories: Mapping[str, str], report: ExportReport) -> None:
    """Write each category's index page; one that cannot be written is skipped and counted."""
    pages_dir.mkdir(parents=True, exist_ok=True)
    for category, tag in sorted(categories.items()):
        name, text = category_page(category, tag)
        try:
            _write_if_changed(inside(pages_dir, name), text)
        except (UnsafePath, OSError) as exc:
            logger.warning("Not writing the page of category %s: %s", category, exc)
            report.skipped["page_unwritable"] += 1


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
