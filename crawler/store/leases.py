"""Leases: short exclusive holds on stored stories, for servers whose updates are not atomic.

MongoDB applies an update to one document atomically: two writers' ``$push`` to one story both
land. FerretDB 1.24 (SQLite) reads the document, applies the update in its own process and writes
the whole document back, with nothing stopping another writer in between, so one of two concurrent
updates is lost (docs/storage.md, "Servers"). Its inserts are atomic, though: ``_id`` is a SQLite
primary key. A lease is such an insert, ``{_id: story id, owner, until}`` in
``<collection>_leases``: only the writer whose insert succeeded updates or deletes that story
until it deletes the lease again. Leases are taken all at once or not at all (so two writers
never wait on each other in a circle), and a lease a crashed writer left behind is broken once
its ``until`` is past.

On a server with atomic updates (MongoDB) no lease is taken: :func:`story_leases` says which.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pymongo.errors import BulkWriteError, OperationFailure, PyMongoError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

logger = logging.getLogger(__name__)

#: MongoDB's code for a refused duplicate key (a lease held, a story stored already).
DUPLICATE_KEY = 11000
#: How long a lease holds when its writer never gives it back (a crash): far longer than a bulk
#: write takes, and than the clock difference of two hosts.
LEASE_SECONDS = 30.0
#: How long a writer waits for leases other writers hold before giving up on its batch.
PATIENCE_SECONDS = 90.0
_FIRST_WAIT = 0.005
_LONGEST_WAIT = 0.25


class LeaseTimeout(PyMongoError):
    """Leases on stories stayed held by other writers for longer than the writer's patience.

    A ``PyMongoError``: the storage stage keeps the batch in its spool, as for a server that
    cannot be reached, and a later run stores it.
    """


@dataclass
class Leases:
    """Take and give back leases on stories in one leases collection."""

    collection: Any
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)
    seconds: float = LEASE_SECONDS
    patience: float = PATIENCE_SECONDS

    @contextmanager
    def hold(self, ids: Iterable[str]) -> Iterator[None]:
        """Hold a lease on every story of ``ids`` for the ``with`` block.

        Raises :class:`LeaseTimeout` when other writers hold some of them past the patience.
        """
        wanted = sorted(set(ids))
        if not wanted:
            yield
            return
        self._acquire(wanted)
        try:
            yield
        finally:
            self._release(wanted)

    def _acquire(self, ids: list[str]) -> None:
        """Take every lease of ``ids``, waiting (with jitter) while others hold some."""
        deadline = time.monotonic() + self.patience
        wait = _FIRST_WAIT
        while True:
            held = self._try(ids)
            if len(held) == len(ids):
                return
            self._release(held)  # all or none: never wait while holding
            self._break_stale([i for i in ids if i not in held])
            if time.monotonic() > deadline:
                raise LeaseTimeout(f"{len(ids) - len(held)} stories stayed leased by other writers")
            time.sleep(wait * random.uniform(0.5, 1.5))
            wait = min(wait * 2, _LONGEST_WAIT)

    def _try(self, ids: list[str]) -> set[str]:
        """Insert a lease for each of ``ids``; return those this writer now holds."""
        until = datetime.now(UTC) + timedelta(seconds=self.seconds)
        leases = [{"_id": i, "owner": self.owner, "until": until} for i in ids]
        try:
            self.collection.insert_many(leases, ordered=False)
        except BulkWriteError as error:
            failures = error.details.get("writeErrors", [])
            if any(f.get("code") != DUPLICATE_KEY for f in failures):
                raise
            taken = {ids[f["index"]] for f in failures}
            return {i for i in ids if i not in taken}
        return set(ids)

    def _release(self, ids: Iterable[str]) -> None:
        """Give back this writer's leases among ``ids``."""
        ids = list(ids)
        if ids:
            self.collection.delete_many({"_id": {"$in": ids}, "owner": self.owner})

    def _break_stale(self, ids: list[str]) -> None:
        """Delete the leases among ``ids`` whose time is past (their writer is gone)."""
        broken = self.collection.delete_many(
            {"_id": {"$in": ids}, "until": {"$lt": datetime.now(UTC)}}
        ).deleted_count
        if broken:
            logger.warning("Broke %d leases on stories that their writers never gave back", broken)


def atomic_updates(client: Any) -> bool:
    """Tell whether the server applies each single-document update atomically.

    FerretDB names its version in ``buildInfo`` and does not; MongoDB does. A client without the
    command (mongomock: one process, no concurrency) counts as atomic.
    """
    try:
        info = client.admin.command("buildInfo")
    except (NotImplementedError, OperationFailure):
        return True
    return "ferretdbVersion" not in info


def story_leases(collection: Any) -> Leases | None:
    """Return the leases that guard updates of ``collection``'s stories, or ``None`` when its
    server needs none (one ``buildInfo``: ask once per store, not per write)."""
    if atomic_updates(collection.database.client):
        return None
    return Leases(collection.database[f"{collection.name}_leases"])


@contextmanager
def holding(leases: Leases | None, ids: Iterable[str]) -> Iterator[None]:
    """Hold ``leases`` on ``ids`` for the ``with`` block; nothing when ``leases`` is None."""
    if leases is None:
        yield
        return
    with leases.hold(ids):
        yield
