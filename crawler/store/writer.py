"""Batched, deduplicating writes of articles: each story once, every sighting recorded.

A batch is resolved in memory against the stored stories it could match (one query) and the
stories earlier in the same batch, in the layers of DESIGN.md: identity (``_id``, or an id already
recorded in a sighting), canonical URL, exact content hash, SimHash within the configured
distance. Content layers only match stories published within the dedupe window of each other.
Then one unordered bulk write carries one operation per touched story.

Writers in several processes may resolve the same story at the same moment, each finding nothing
stored, and both insert it. Identity and URL are unique indexes, so the server refuses the second
insert and the batch resolves again. Text has no such key (a content match is a window, not a
value), so after its insert each writer looks again for stories that match its new ones
(:meth:`ArticleStore._settle`): of two concurrent inserts the later one's look always sees the
earlier one, and both writers agree that the oldest document (``first_seen_at``, then ``_id``)
keeps the story. The other is merged into it, sightings and all, and deleted.

Every update and delete of a stored story relies on the server applying it atomically. Where it
does not (FerretDB), the writer first takes a lease on the story (:mod:`crawler.store.leases`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import bson
from pymongo import InsertOne, UpdateOne
from pymongo.errors import BulkWriteError, PyMongoError

from crawler.store.documents import (
    CONTENT_FIELDS,
    FINGERPRINT_FIELDS,
    UNION_FIELDS,
    article_document,
    merge_securities,
    merge_union_field,
    sighting,
)
from crawler.store.fingerprint import hamming, legacy_bands
from crawler.store.leases import DUPLICATE_KEY, holding, story_leases
from crawler.store.mongo import articles, connect, prepare_collection, release_client

if TYPE_CHECKING:
    from crawler.store.leases import Leases
    from crawler.store.mongo import StorageConfig

logger = logging.getLogger(__name__)

INSERTED = "inserted"
UPDATED = "updated"
UNCHANGED = "unchanged"
DUPLICATE_EXACT = "duplicate_exact"
DUPLICATE_NEAR = "duplicate_near"
#: Another writer's document, stored at the same time as one of ours, merged into ours.
MERGED = "merged"
#: How often a merge retries when the document it merges keeps receiving sightings.
_MERGE_ATTEMPTS = 3
#: How often a batch is resolved and written when other writers keep changing its stories.
_WRITE_ATTEMPTS = 3
#: MongoDB's limit on one document. Checked here, not left to the server: FerretDB stores
#: larger documents, and a story must be refused the same way whatever the server.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
#: Fields read back for resolution: everything but the bodies.
_PROJECTION = {"body_html": 0, "body_text": 0}
#: Stored candidates read per round trip while resolving (most of what the band lookup returns
#: shares a band by chance and is dropped at once).
_CANDIDATES_PER_READ = 200


@dataclass(frozen=True)
class Record:
    """One normalised article item and the time it was seen (its fetch time)."""

    item: Mapping[str, Any]
    seen_at: datetime


@dataclass
class WriteResult:
    """What a batch came to: outcome counts and the records MongoDB refused."""

    counts: Counter[str] = field(default_factory=Counter)
    rejected: list[Record] = field(default_factory=list)


@dataclass(eq=False)
class Story:
    """A story the batch touches: a new document, or one already stored plus its changes."""

    doc: dict[str, Any]
    new: bool
    records: list[tuple[Record, str]] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)
    revisions: int = 0
    previous_hashes: list[str] = field(default_factory=list)
    sightings: list[dict[str, Any]] = field(default_factory=list)

    def knows_id(self, identity: str) -> bool:
        """Tell whether ``identity`` is this story's id or the id of one of its sightings."""
        return identity == self.doc["_id"] or any(
            s.get("id") == identity for s in self.doc.get("sightings", [])
        )

    def see(self, record: Record, seen: dict[str, Any]) -> None:
        """Move ``last_seen_at`` forward; add the sighting unless its id and URL are listed."""
        if record.seen_at > self.doc["last_seen_at"]:
            self.doc["last_seen_at"] = record.seen_at
            self.changes["last_seen_at"] = record.seen_at
        key = (seen["id"], seen["url"])
        if all((s.get("id"), s.get("url")) != key for s in self.doc["sightings"]):
            self.doc["sightings"].append(seen)
            self.sightings.append(seen)

    def tag(self, document: Mapping[str, Any]) -> None:
        """Add the securities and topics ``document`` names to the story's: a sighting never
        removes one."""
        for name in UNION_FIELDS:
            stored = self.doc.get(name) or []
            merged = merge_union_field(name, stored, document.get(name))
            if merged != stored:
                self.doc[name] = self.changes[name] = merged

    def change(self, document: Mapping[str, Any], seen_at: datetime) -> None:
        """Take the content of ``document``: new fields, ``revision`` + 1, the old hash kept."""
        old_hash = self.doc["content_hash"]
        self.doc.setdefault("previous_hashes", []).append(old_hash)
        self.previous_hashes.append(old_hash)
        for name in (*CONTENT_FIELDS, *FINGERPRINT_FIELDS):
            if name in document:
                self.doc[name] = self.changes[name] = document[name]
        self.doc["updated_at"] = self.changes["updated_at"] = seen_at
        self.doc["revision"] = self.doc.get("revision", 1) + 1
        self.revisions += 1

    def operation(self) -> InsertOne[dict[str, Any]] | UpdateOne | None:
        """Return the one write this story needs, or None when nothing changed."""
        if self.new:
            return InsertOne(self.doc)
        update: dict[str, Any] = {}
        if "last_seen_at" in self.changes:
            update["$max"] = {"last_seen_at": self.changes["last_seen_at"]}
        sets = {k: v for k, v in self.changes.items() if k != "last_seen_at"}
        if sets:
            update["$set"] = sets
        if self.revisions:
            update["$inc"] = {"revision": self.revisions}
        pushes: dict[str, Any] = {}
        if self.previous_hashes:
            pushes["previous_hashes"] = {"$each": self.previous_hashes}
        if self.sightings:
            pushes["sightings"] = {"$each": self.sightings}
        if pushes:
            update["$push"] = pushes
        return UpdateOne({"_id": self.doc["_id"]}, update) if update else None


class ArticleStore:
    """Write batches of article records to one collection, deduplicated."""

    def __init__(
        self, collection: Any, distance: int, window: timedelta, leases: Leases | None = None
    ) -> None:
        self.collection = collection
        self.distance = distance
        self.window = window
        self.leases = leases

    def write(self, records: list[Record]) -> WriteResult:
        """Resolve and write one batch; a ``PyMongoError`` other than a refused write escapes.

        A batch that cannot be encoded (``bson`` refuses a value) is written again record by
        record: the records that still fail are rejected, the others stored.
        """
        try:
            return self._write_batch(records)
        except PyMongoError:
            raise
        except Exception:
            if len(records) != 1:
                return self._write_each(records)
            logger.exception("Cannot store article %s: it is rejected", records[0].item.get("id"))
            return WriteResult(rejected=list(records))

    def _write_each(self, records: list[Record]) -> WriteResult:
        """Write ``records`` one at a time; a ``PyMongoError`` escapes."""
        result = WriteResult()
        for record in records:
            one = self.write([record])
            result.counts += one.counts
            result.rejected.extend(one.rejected)
        return result

    def _write_batch(self, records: list[Record]) -> WriteResult:
        """Resolve and write one batch in one bulk write (and one retry for duplicate keys)."""
        result = WriteResult()
        written: list[Story] = []
        pending = records
        for _ in range(_WRITE_ATTEMPTS):
            stories = self._resolve(pending, result)
            # Another writer stored (or merged away) one of these stories meanwhile: the records
            # of what it touched are resolved once more, against what is stored now.
            again = self._bulk_write(stories, result)
            written += [story for story in stories if story not in again]
            pending = [record for story in again for record, _ in story.records]
            if not pending:
                break
        else:
            logger.error("%d articles kept meeting other writers' changes", len(pending))
            result.rejected.extend(pending)
        for story in written:
            result.counts.update(outcome for _, outcome in story.records)
        self._settle([story for story in written if story.new and story.records], result)
        return result

    def _resolve(self, records: list[Record], result: WriteResult) -> list[Story]:
        """Match each record to a stored or earlier story, or start a new one.

        A record whose document is over MongoDB's size limit goes to ``result.rejected``.
        """
        pairs = []
        for record in records:
            document = article_document(record.item, record.seen_at, self.distance)
            if (size := len(bson.encode(document))) > MAX_DOCUMENT_BYTES:
                logger.error(
                    "Article %s is %d bytes as a document, over MongoDB's limit of %d: rejected",
                    document["_id"],
                    size,
                    MAX_DOCUMENT_BYTES,
                )
                result.rejected.append(record)
                continue
            pairs.append((record, document))
        stories = self._candidates([d for _, d in pairs])
        touched: list[Story] = []
        for record, document in pairs:
            story, outcome = self._match(document, stories)
            if story is None:
                story = Story(document, new=True)
                stories.append(story)
            else:
                if outcome == UPDATED:
                    story.change(document, record.seen_at)
                story.tag(document)
            story.see(record, sighting(record.item, record.seen_at))
            story.records.append((record, outcome))
            if story not in touched:
                touched.append(story)
        return touched

    def _candidates(self, documents: list[dict[str, Any]]) -> list[Story]:
        """Return the stored stories any of ``documents`` matches (one query).

        The band lookup also finds stories that share a band by chance and match nothing; they
        are dropped as the cursor reads them (``_CANDIDATES_PER_READ`` at a time), so what a
        batch holds does not grow with the collection.
        """
        cursor = self.collection.find(self.candidate_filter(documents), _PROJECTION)
        stored = (Story(doc, new=False) for doc in cursor.batch_size(_CANDIDATES_PER_READ))
        return [story for story in stored if self._matches_any(story, documents)]

    def candidate_filter(self, documents: list[dict[str, Any]]) -> dict[str, Any]:
        """Return the query for the stored stories ``documents`` could match: same id (or a
        sighting's), same canonical URL, same text or a shared SimHash key within the window."""
        ids = [d["_id"] for d in documents]
        clauses: list[dict[str, Any]] = [{"_id": {"$in": ids}}, {"sightings.id": {"$in": ids}}]
        urls = [d["canonical_url"] for d in documents if "canonical_url" in d]
        if urls:
            clauses.append({"canonical_url": {"$in": urls}})
        for document in documents:
            published = document.get("published_at")
            if not isinstance(published, datetime):
                continue
            # Per article, so each clause is a tight range on its compound index.
            window = {"$gte": published - self.window, "$lte": published + self.window}
            clauses.append({"content_hash": document["content_hash"], "published_at": window})
            if document["simhash_bands"]:
                keys = document["simhash_bands"] + legacy_bands(document["simhash"], self.distance)
                clauses.append({"simhash_bands": {"$in": keys}, "published_at": window})
        return {"$or": clauses}

    def _matches_any(self, story: Story, documents: list[dict[str, Any]]) -> bool:
        """Tell whether a stored ``story`` is one of ``documents``' by identity, URL or text."""
        return any(
            _same_identity(story, document) or self._is_copy(document, story)
            for document in documents
        )

    def _match(self, document: dict[str, Any], stories: list[Story]) -> tuple[Story | None, str]:
        """Return the story ``document`` belongs to and the outcome, layer by layer."""
        for story in stories:
            if _same_identity(story, document):
                return story, self._revision_outcome(story, document)
        return self._content_match(document, stories)

    def _content_match(
        self, document: dict[str, Any], stories: list[Story]
    ) -> tuple[Story | None, str]:
        """Return the story whose text ``document`` repeats (exactly, else nearly), if any."""
        near = [s for s in stories if self._within_window(s, document)]
        for story in near:
            if story.doc.get("content_hash") == document["content_hash"]:
                return story, DUPLICATE_EXACT
        if document["simhash_bands"]:
            distances = [
                (hamming(s.doc["simhash"], document["simhash"]), i)
                for i, s in enumerate(near)
                if s.doc.get("simhash_bands") and isinstance(s.doc.get("simhash"), int)
            ]
            if distances and (best := min(distances))[0] <= self.distance:
                return near[best[1]], DUPLICATE_NEAR
        return None, INSERTED

    def _is_copy(self, document: dict[str, Any], other: Story) -> bool:
        """Tell whether ``other`` holds ``document``'s text, exactly or nearly, in the window."""
        if not self._within_window(other, document):
            return False
        if other.doc.get("content_hash") == document["content_hash"]:
            return True
        return bool(
            document["simhash_bands"]
            and other.doc.get("simhash_bands")
            and isinstance(other.doc.get("simhash"), int)
            and hamming(other.doc["simhash"], document["simhash"]) <= self.distance
        )

    def _settle(self, stories: list[Story], result: WriteResult) -> None:
        """Merge each new story with a copy another writer inserted at the same time.

        The oldest document of a story keeps it. When it is ours, the other writer's copy is
        merged into it (counted ``merged``); when it is theirs, ours is merged into theirs and our
        outcome becomes the duplicate it would have been had their insert come first.
        """
        dated = [s for s in stories if isinstance(s.doc.get("published_at"), datetime)]
        if not dated:
            return
        stored = self._candidates([s.doc for s in dated])
        merged: set[str] = set()
        for story in dated:
            if story.doc["_id"] in merged:
                continue
            copies = [
                other.doc
                for other in stored
                if other.doc["_id"] not in (story.doc["_id"], *merged)
                and self._is_copy(story.doc, other)
            ]
            oldest, *newer = sorted([story.doc, *copies], key=_age)
            for copy in newer:
                merged.add(copy["_id"])
                # Several writers may see the same copies; the one whose delete succeeds counts.
                if not self._merge(copy, oldest["_id"]):
                    continue
                if copy is story.doc:
                    same = copy["content_hash"] == oldest["content_hash"]
                    result.counts[INSERTED] -= 1
                    result.counts[DUPLICATE_EXACT if same else DUPLICATE_NEAR] += 1
                else:
                    result.counts[MERGED] += 1
        result.counts = +result.counts  # drop a zeroed count

    def _merge(self, newer: dict[str, Any], older_id: str) -> bool:
        """Move ``newer``'s sightings into the story ``older_id`` and delete ``newer``.

        Sightings are copied before the delete, and the delete only happens when ``newer`` took
        no sighting meanwhile (else it is read again), so a crash or a race loses none. Return
        whether this call deleted ``newer``.
        """
        for _ in range(_MERGE_ATTEMPTS):
            with holding(self.leases, [older_id, newer["_id"]]):
                merged = self._merge_once(newer, older_id)
            if isinstance(merged, bool):
                return merged
            newer = merged
        logger.warning("Story %s keeps receiving sightings: left beside %s", newer["_id"], older_id)
        return False

    def _merge_once(self, newer: dict[str, Any], older_id: str) -> bool | dict[str, Any]:
        """Try :meth:`_merge` once: whether this call deleted ``newer`` (or must leave it), or
        ``newer`` as stored now when it took a sighting meanwhile."""
        update: dict[str, Any] = {
            "$addToSet": {"sightings": {"$each": newer["sightings"]}},
            "$max": {"last_seen_at": newer["last_seen_at"]},
        }
        unions = [name for name in UNION_FIELDS if newer.get(name)]
        if unions:
            older = self.collection.find_one({"_id": older_id}, dict.fromkeys(unions, 1)) or {}
            update["$set"] = {
                name: merge_union_field(name, older.get(name), newer[name]) for name in unions
            }
        if not self.collection.update_one({"_id": older_id}, update).matched_count:
            return False  # the older copy went itself (merged elsewhere): keep this one
        gone = self.collection.delete_one(
            {"_id": newer["_id"], "sightings": {"$size": len(newer["sightings"])}}
        )
        if gone.deleted_count:
            logger.info("Story %s stored twice at once: merged into %s", newer["_id"], older_id)
            return True
        fresh = self.collection.find_one({"_id": newer["_id"]}, _PROJECTION)
        return False if fresh is None else fresh  # None: the other writer merged it first

    @staticmethod
    def _revision_outcome(story: Story, document: Mapping[str, Any]) -> str:
        """Tell whether a re-seen story changed; an older copy (replayed late) never wins."""
        if story.doc.get("content_hash") == document["content_hash"]:
            return UNCHANGED
        updated_at = story.doc.get("updated_at")
        if isinstance(updated_at, datetime) and document["last_seen_at"] < updated_at:
            return UNCHANGED
        return UPDATED

    def _within_window(self, story: Story, document: Mapping[str, Any]) -> bool:
        """Tell whether two stories were published within the dedupe window of each other."""
        a, b = story.doc.get("published_at"), document.get("published_at")
        return isinstance(a, datetime) and isinstance(b, datetime) and abs(a - b) <= self.window

    def _bulk_write(self, stories: list[Story], result: WriteResult) -> set[Story]:
        """Write one operation per story; return the stories to resolve again.

        Those are the new stories refused for a duplicate key and the stored ones whose update
        found no document (another writer merged it away). Other refused writes (a validator
        error) go to ``result.rejected``.
        """
        pending = [(story, op) for story in stories if (op := story.operation()) is not None]
        if not pending:
            return set()
        leased = [story.doc["_id"] for story, _ in pending if not story.new]
        try:
            with holding(self.leases, leased):
                matched = self.collection.bulk_write([op for _, op in pending], ordered=False)
        except BulkWriteError as error:
            again = self._refused(error, pending, result)
            matched_count = error.details.get("nMatched", 0)
        else:
            again, matched_count = set(), matched.matched_count
        updated = [story for story, _ in pending if not story.new and story.records]
        if matched_count < len(updated):
            found = {
                doc["_id"]
                for doc in self.collection.find(
                    {"_id": {"$in": [story.doc["_id"] for story in updated]}}, {"_id": 1}
                )
            }
            again |= {story for story in updated if story.doc["_id"] not in found}
        return again

    @staticmethod
    def _refused(
        error: BulkWriteError, pending: list[tuple[Story, Any]], result: WriteResult
    ) -> set[Story]:
        """Sort a bulk write's refused operations: duplicate keys to retry, the rest rejected."""
        retry: set[Story] = set()
        for failure in error.details.get("writeErrors", []):
            story = pending[failure["index"]][0]
            if failure.get("code") == DUPLICATE_KEY and story.new:
                retry.add(story)
                continue
            logger.error(
                "MongoDB refused article %s (code %s): %s",
                story.doc["_id"],
                failure.get("code"),
                failure.get("errmsg"),
            )
            result.rejected.extend(record for record, _ in story.records)
            story.records.clear()
        return retry


def add_security(collection: Any, ids: list[str], security: Mapping[str, Any]) -> int:
    """Add ``security`` (a stored entry) to the stored stories that hold any of ``ids`` (as
    ``_id`` or a sighting's id), merged as a sighting's are; return how many changed.

    For the stories a per-security listing names that are stored already: they are not fetched
    again, so no item brings the tag. Each story is set only if its list is still the one read
    (FerretDB lacks the operators that would do it in place), read again when not; under a lease
    where updates are not atomic, for the guard alone is no guard there.
    """
    holders = {"$or": [{"_id": {"$in": ids}}, {"sightings.id": {"$in": ids}}]}
    leases = story_leases(collection)
    changed = 0
    for doc in collection.find(holders, {"securities": 1}):
        with holding(leases, [doc["_id"]]):
            changed += _add_security(collection, doc, security)
    return changed


def _add_security(collection: Any, doc: Mapping[str, Any], security: Mapping[str, Any]) -> int:
    """Add ``security`` to the stored story ``doc`` (read with its securities); return 1 when it
    changed, else 0."""
    for _ in range(_MERGE_ATTEMPTS):
        stored = doc.get("securities")
        merged = merge_securities(stored or [], [security])
        if merged == stored:
            return 0
        guard = {"$exists": False} if stored is None else stored
        update = {"$set": {"securities": merged}}
        if collection.update_one({"_id": doc["_id"], "securities": guard}, update).matched_count:
            return 1
        doc = collection.find_one({"_id": doc["_id"]}, {"securities": 1}) or {}
        if not doc:
            return 0  # merged away meanwhile
    return 0


def add_topic(collection: Any, ids: list[str], topic: int) -> int:
    """Add 7×24 topic column ``topic`` to the stored stories that hold any of ``ids`` (one
    atomic ``$addToSet`` each; ``topics`` then reads unsorted until a sighting merges it); return
    how many changed."""
    holders = {"$or": [{"_id": {"$in": ids}}, {"sightings.id": {"$in": ids}}]}
    leases = story_leases(collection)
    if leases is None:
        return int(collection.update_many(holders, {"$addToSet": {"topics": topic}}).modified_count)
    stories = [doc["_id"] for doc in collection.find(holders, {"_id": 1})]
    with leases.hold(stories):
        update = {"$addToSet": {"topics": topic}}
        return int(collection.update_many({"_id": {"$in": stories}}, update).modified_count)


def _same_identity(story: Story, document: Mapping[str, Any]) -> bool:
    """Tell whether ``document`` is ``story`` by id (its own or a sighting's) or canonical URL."""
    return story.knows_id(document["_id"]) or (
        "canonical_url" in document and story.doc.get("canonical_url") == document["canonical_url"]
    )


def _age(document: Mapping[str, Any]) -> tuple[datetime, str]:
    """Order copies of a story by age: the first seen, then the smallest ``_id``, keeps it."""
    return document["first_seen_at"], document["_id"]


def open_store(config: StorageConfig) -> ArticleStore:
    """Connect, prepare the collection (validator, indexes) and return the store.

    The store holds the process's client: give it back with
    :func:`crawler.store.mongo.release_client` when done.
    """
    client = connect(config)
    try:
        prepare_collection(client[config.database], config.collection, config.validator)
    except Exception:
        release_client(config)
        raise
    collection = articles(client, config)
    return ArticleStore(
        collection,
        config.near_distance,
        timedelta(hours=config.window_hours),
        story_leases(collection),
    )
