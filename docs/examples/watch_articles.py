"""Print every story the moment finews stores it: a MongoDB change stream on ``articles``.

    python docs/examples/watch_articles.py --uri "mongodb://host:27017/?replicaSet=rs0"
        [--database finews] [--resume-file watch.token] [--poll SECONDS]

A consumer's example, not part of finews: it needs pymongo alone. Each new story prints as one
line: when it was first seen, how long after its publication, its source and title.

- Change streams need a replica set (a one-node set will do: ``mongod --replSet rs0`` then
  ``mongosh --eval "rs.initiate()"``) or a sharded cluster. A standalone ``mongod`` refuses them
  (error 40573), FerretDB 1.x has none (``$changeStream`` "is not implemented yet", error 238).
- The stream's resume token is written to ``--resume-file`` after each story: started again, the
  watcher continues after the last story it printed, as long as the oplog still holds that point.
- ``--poll SECONDS`` (for servers without change streams) asks every SECONDS for the stories
  whose ``first_seen_at`` is recent instead: a story is seen up to SECONDS late.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
from bson import json_util
from pymongo.errors import OperationFailure, PyMongoError

#: Server errors meaning "no change streams here": standalone mongod, FerretDB 1.x.
NO_CHANGE_STREAMS = {40573, 238}
FIELDS = {"title": 1, "source": 1, "published_at": 1, "first_seen_at": 1}
#: How far back a poll looks again: a batch is stored a little after its stories were fetched.
OVERLAP = timedelta(minutes=2)


def line(story: dict[str, Any]) -> str:
    """Format a story: first seen, delay after publication, source, title."""
    seen, published = story.get("first_seen_at"), story.get("published_at")
    delay = f"+{(seen - published).total_seconds():.0f}s" if seen and published else "?"
    when = f"{seen:%Y-%m-%d %H:%M:%S}" if seen else "?"
    return f"{when} UTC {delay:>6} {story.get('source')}: {story.get('title')}"


def watch(collection: Any, resume_file: Path | None) -> None:
    """Print stories as they are inserted, saving the resume token after each."""
    token = None
    if resume_file is not None and resume_file.exists():
        token = json_util.loads(resume_file.read_text())
    pipeline = [{"$match": {"operationType": "insert"}}]
    with collection.watch(pipeline, resume_after=token) as stream:
        for change in stream:
            story = change["fullDocument"]
            print(line(story), flush=True)
            if resume_file is not None:
                resume_file.write_text(json_util.dumps(stream.resume_token))


def poll_once(
    collection: Any, since: datetime, printed: dict[str, datetime]
) -> list[dict[str, Any]]:
    """Return the stories first seen since ``since`` (less the overlap) not yet in ``printed``
    (ids by first-seen time, forgotten once older than the overlap: the set stays small)."""
    floor = since - OVERLAP
    found = collection.find({"first_seen_at": {"$gte": floor}}, FIELDS).sort("first_seen_at", 1)
    fresh = [story for story in found if story["_id"] not in printed]
    for story in fresh:
        printed[story["_id"]] = story["first_seen_at"]
    for identity in [i for i, seen in printed.items() if seen < floor]:
        del printed[identity]
    return fresh


def poll(collection: Any, interval: float) -> None:
    """Print the new stories every ``interval`` seconds, from now on."""
    since = datetime.now(UTC).replace(tzinfo=None)
    printed: dict[str, datetime] = {}
    poll_once(collection, since, printed)  # what is already there is not news
    while True:
        time.sleep(interval)
        for story in poll_once(collection, since, printed):
            print(line(story), flush=True)
            since = max(since, story["first_seen_at"])


def main() -> None:
    """Watch (or poll) the article collection until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uri", default="mongodb://localhost:27017")
    parser.add_argument("--database", default="finews")
    parser.add_argument("--collection", default="articles")
    parser.add_argument("--resume-file", type=Path)
    parser.add_argument("--poll", type=float, help="poll every SECONDS instead of watching")
    args = parser.parse_args()
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(args.uri)
    collection = client[args.database][args.collection]
    try:
        if args.poll:
            poll(collection, args.poll)
        else:
            watch(collection, args.resume_file)
    except OperationFailure as error:
        if error.code not in NO_CHANGE_STREAMS:
            raise
        sys.exit(f"{args.uri} has no change streams ({error.code}: {error}); use --poll 5")
    except PyMongoError as error:
        sys.exit(f"MongoDB at {args.uri}: {error}")
    except KeyboardInterrupt:
        pass
    finally:
        client.close()


if __name__ == "__main__":
    main()
