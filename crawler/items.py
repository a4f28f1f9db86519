"""The article: the one schema every spider, pipeline, exporter and the MongoDB validator follow.

Parsers fill the *raw* fields with what the page says (``title``, ``published_text``,
``body_html``, ``publisher``, ``authors``, ``editor``); the pipelines then normalise them in place
and derive the rest. Field metadata carries the BSON types and the description used for the
MongoDB ``$jsonSchema`` validator and the README's schema table.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from itemadapter import ItemAdapter
from itemadapter.adapter import DataclassAdapter

SCHEMA_VERSION = 1


def _field(doc: str, bson: str | tuple[str, ...], *, stage: str, factory: Any = None) -> Any:
    """Declare one article field with its description, BSON type(s) and the stage that sets it."""
    meta = {"doc": doc, "bson": bson, "stage": stage}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=None, metadata=meta)


@dataclass
class Article:
    """One news story, as stored in the ``articles`` collection (``id`` is stored as ``_id``)."""

    # Where it came from: set by the spider.
    url: str | None = _field("URL the article was fetched from", "string", stage="spider")
    source: str | None = _field(
        "spider/source key that produced it (`eastmoney`, `cmrnn`)", "string", stage="spider"
    )
    native_id: str | None = _field(
        "the source's own id (East Money: the 18-digit `code`)", ("string", "null"), stage="spider"
    )
    feed: str | None = _field(
        "listing it was found in (`column:345`, `724`, `rolling`, `rss`)",
        ("string", "null"),
        stage="spider",
    )
    fetched_at: datetime | None = _field(
        "UTC time of the fetch; reference for relative times", "date", stage="spider"
    )
    via: str | None = _field(
        "aggregator it came through (`eastmoney`), null when fetched from the publisher",
        ("string", "null"),
        stage="spider",
    )
    summary: str | None = _field(
        "the feed's digest, when given", ("string", "null"), stage="spider"
    )

    # Raw on arrival, normalised by the pipelines.
    title: str | None = _field("clean headline", "string", stage="title")
    published_text: str | None = _field(
        "publish time exactly as the source printed it", ("string", "null"), stage="spider"
    )
    published_at: datetime | None = _field(
        "publish time, timezone-aware, stored in UTC", "date", stage="dates"
    )
    published_tz: str | None = _field(
        "the source's UTC offset for that time (`+08:00`)", "string", stage="dates"
    )
    body_html: str | None = _field(
        "sanitised body HTML (allow-listed tags, absolute URLs)", "string", stage="body"
    )
    body_text: str | None = _field(
        "plain text body, one paragraph per line", "string", stage="body"
    )
    original_title: str | None = _field(
        "the headline the publisher first used (`原标题`)", ("string", "null"), stage="title"
    )
    publisher: str | None = _field(
        "media that wrote it (`中国市场监管新闻网`)", ("string", "null"), stage="attribution"
    )
    publisher_slug: str | None = _field(
        "publisher in pinyin, lower case, no separators", ("string", "null"), stage="attribution"
    )
    authors: list[str] = _field(
        "people credited as authors", "array", stage="attribution", factory=list
    )
    editor: str | None = _field(
        "responsible editor (`责任编辑`)", ("string", "null"), stage="attribution"
    )

    # Identity: set by the identity stage.
    id: str | None = _field(
        "stable identity: `<source>:<native id>`, else `url:<sha1 of canonical_url>`",
        "string",
        stage="identity",
    )
    canonical_url: str | None = _field(
        "URL without tracking parameters or fragment, canonicalised", "string", stage="identity"
    )

    # Storage bookkeeping: set by the storage pipeline.
    content_hash: str | None = _field(
        "SHA-1 of the normalised body text", ("string", "null"), stage="storage"
    )
    simhash: int | None = _field(
        "64-bit SimHash of body_text (signed int64)", ("long", "null"), stage="storage"
    )
    sightings: list[dict[str, Any]] = _field(
        "every place the story was seen: `{url, source, publisher, seen_at}`",
        "array",
        stage="storage",
        factory=list,
    )
    first_seen_at: datetime | None = _field("first time stored", ("date", "null"), stage="storage")
    last_seen_at: datetime | None = _field("last time seen", ("date", "null"), stage="storage")
    updated_at: datetime | None = _field(
        "last time the content changed", ("date", "null"), stage="storage"
    )
    revision: int | None = _field(
        "1, then +1 each time the content changes", ("int", "null"), stage="storage"
    )
    schema_version: int = field(
        default=SCHEMA_VERSION,
        metadata={"doc": "version of this schema", "bson": "int", "stage": "spider"},
    )


#: Fields a stored article must have, non-empty (the validate stage enforces them).
REQUIRED_FIELDS: tuple[str, ...] = ("url", "source", "title", "published_at", "body_text")


def article_fields() -> tuple[str, ...]:
    """Return the names of the article's fields, in schema order."""
    return tuple(f.name for f in fields(Article))


def mongo_json_schema() -> dict[str, Any]:
    """Return the MongoDB ``$jsonSchema`` that stored article documents must satisfy."""
    properties: dict[str, Any] = {}
    for f in fields(Article):
        name = "_id" if f.name == "id" else f.name
        bson = f.metadata["bson"]
        properties[name] = {
            "bsonType": list(bson) if isinstance(bson, tuple) else bson,
            "description": f.metadata["doc"],
        }
    required = ["_id", *REQUIRED_FIELDS, "schema_version"]
    return {"bsonType": "object", "required": required, "properties": properties}


class _ArticleDataclassAdapter(DataclassAdapter):
    """itemadapter's dataclass adapter with the field table built once for :class:`Article`.

    The stock adapter calls ``dataclasses.fields`` each time it wraps an item; every stage wraps
    every article, so the table is shared instead.
    """

    _FIELDS: dict[str, Any] = {f.name: f for f in fields(Article)}

    def __init__(self, item: Any) -> None:
        self.item = item
        self._fields_dict = self._FIELDS

    @classmethod
    def is_item(cls, item: Any) -> bool:
        return type(item) is Article

    def get(self, field_name: str, default: Any = None) -> Any:
        """``Mapping.get`` without its two extra calls and exception per field."""
        return getattr(self.item, field_name) if field_name in self._FIELDS else default


class ArticleAdapter(ItemAdapter):
    """An :class:`ItemAdapter` that wraps :class:`Article` cheaply and any other item as usual."""

    ADAPTER_CLASSES = deque([_ArticleDataclassAdapter, *ItemAdapter.ADAPTER_CLASSES])

    def get(self, key: str, default: Any = None) -> Any:
        return self.adapter.get(key, default)
