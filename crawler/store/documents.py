"""Article documents: from a normalised item to the stored document, safe for MongoDB."""

from __future__ import annotations

import re
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from bson.int64 import Int64

from crawler.items import Article
from crawler.store.fingerprint import content_hash, near_dup_eligible, simhash, simhash_bands

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from datetime import datetime

#: Fields only the storage stage writes; an item's own values for them are ignored.
STORAGE_FIELDS: frozenset[str] = frozenset(
    f.name for f in fields(Article) if f.metadata["stage"] == "storage"
)
#: Fields that say where a story was first found; later sightings never overwrite them.
IDENTITY_FIELDS: frozenset[str] = frozenset({"id", "url", "canonical_url", "source", "native_id"})
#: Fields every sighting adds to, never overwrites: the securities the story is about, its
#: 7×24 topics; each with its union (``_UNIONS``).
UNION_FIELDS: frozenset[str] = frozenset({"securities", "topics"})
#: Fields a changed article overwrites: the content the item carries.
CONTENT_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(Article) if f.name not in STORAGE_FIELDS | IDENTITY_FIELDS | UNION_FIELDS
)
#: Storage-derived fields that change with the content.
FINGERPRINT_FIELDS: tuple[str, ...] = ("content_hash", "simhash", "simhash_bands")
_NOT_NULL: frozenset[str] = frozenset(
    f.name for f in fields(Article) if "null" not in f.metadata["bson"]
)
#: Key characters MongoDB refuses or reads as operators, as look-alikes (NUL ends a BSON key).
_ESCAPES = str.maketrans({"$": "＄", ".": "．", "\x00": "␀"})
_SURROGATE = re.compile("[\ud800-\udfff]")


class UnstorableItem(ValueError):
    """An item without a usable identity."""


def encodable(text: str) -> str:
    """Return ``text`` without NUL and with lone surrogates as U+FFFD, so UTF-8 can encode it.

    A surrogate pair (text decoded with ``surrogatepass``) becomes the character it stands for.
    """
    if _SURROGATE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text.replace("\x00", "")


def escape_keys(value: Any) -> Any:
    """Return ``value`` safe for BSON: dict keys never operators, every string encodable.

    In keys ``$``, ``.`` and NUL become look-alikes; every string goes through :func:`encodable`.
    """
    if isinstance(value, dict):
        return {
            encodable(str(key).translate(_ESCAPES)): escape_keys(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [escape_keys(item) for item in value]
    if isinstance(value, str):
        return encodable(value)
    return value


def _text(item: Mapping[str, Any], name: str) -> str | None:
    """Return the item's field ``name``, :func:`encodable`, when it is a string, else None."""
    value = item.get(name)
    return encodable(value) if isinstance(value, str) else None


def merge_securities(*lists: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return the union of ``securities`` lists, one entry per ``secid`` in first-seen order:
    ``via`` the sorted union of the entries', ``name``, ``market`` and ``code`` the first given."""
    merged: dict[str, dict[str, Any]] = {}
    for securities in lists:
        for entry in securities:
            secid = entry.get("secid")
            if not isinstance(secid, str):
                continue
            kept = merged.get(secid)
            if kept is None:
                merged[secid] = {**entry, "via": sorted(set(entry.get("via") or []))}
                continue
            kept["via"] = sorted(set(kept["via"]) | set(entry.get("via") or []))
            for key in ("name", "market", "code"):
                if not kept.get(key) and entry.get(key):
                    kept[key] = entry[key]
    return list(merged.values())


def merge_topics(*lists: Iterable[Any]) -> list[Any]:
    """Return the sorted union of topic lists."""
    return sorted({topic for topics in lists for topic in topics})


#: The union of each of the :data:`UNION_FIELDS`.
_UNIONS: dict[str, Callable[..., list[Any]]] = {
    "securities": merge_securities,
    "topics": merge_topics,
}


def merge_union_field(name: str, stored: Any, new: Any) -> Any:
    """Return the union of two values of the :data:`UNION_FIELDS` field ``name``."""
    return _UNIONS[name](stored or [], new or [])


def sighting(item: Mapping[str, Any], seen_at: datetime) -> dict[str, Any]:
    """Return where and when ``item`` was seen: ``{id, url, source, publisher, seen_at}``."""
    return {
        "id": _text(item, "id"),
        "url": _text(item, "canonical_url") or _text(item, "url"),
        "source": _text(item, "source"),
        "publisher": _text(item, "publisher"),
        "seen_at": seen_at,
    }


def article_document(item: Mapping[str, Any], seen_at: datetime, distance: int) -> dict[str, Any]:
    """Return the document of a new story for a normalised article item.

    Raises :class:`UnstorableItem` when the item has no string ``id``.
    """
    identity = _text(item, "id")
    if not identity:
        raise UnstorableItem(f"no usable id: {item.get('id')!r}")
    document: dict[str, Any] = {"_id": identity}
    for f in fields(Article):
        if f.name == "id" or f.name in STORAGE_FIELDS:
            continue
        value = escape_keys(item.get(f.name))
        if value is not None or f.name not in _NOT_NULL:
            document[f.name] = value
    if not isinstance(document.get("canonical_url"), str):
        document.pop("canonical_url", None)
    text = _text(item, "body_text") or ""
    value = simhash(text)
    document.update(
        content_hash=content_hash(text),
        simhash=Int64(value),  # always a BSON long, as the validator wants
        simhash_bands=simhash_bands(value, distance) if near_dup_eligible(text) else [],
        sightings=[sighting(item, seen_at)],
        first_seen_at=seen_at,
        last_seen_at=seen_at,
        updated_at=seen_at,
        revision=1,
        previous_hashes=[],
    )
    return document
