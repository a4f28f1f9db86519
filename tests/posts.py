"""Read the original system's posts in tests: front matter fields and the raw body."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

_FRONT = re.compile(r"\A\s*---\n(?P<front>.*?)\n---\n(?P<rest>.*)\Z", re.S)
_FIELD = re.compile(r"^(\w+):\s?(.*)$", re.M)
_TAIL = re.compile(r"\n\n<(?:https?://[^>]*)?>\s*(?:\n\n\[返回.*)?\Z", re.S)


@dataclass
class Post:
    name: str
    title: str
    date: str
    categories: str
    tags: str
    digest: str | None
    body: str


def read_post(path: Path) -> Post:
    """Split a post into its front matter fields, its ``> digest`` line and its body."""
    match = _FRONT.match(path.read_text(encoding="utf-8"))
    assert match, path
    fields = dict(_FIELD.findall(match["front"]))
    rest = _TAIL.split(match["rest"].strip("\n"))[0].strip("\n")
    digest = None
    if rest.startswith("> "):
        digest, _, rest = rest.partition("\n")
        digest = digest[2:]
    title = fields.get("title", "").strip()
    if title.startswith('"') and title.endswith('"'):
        title = title[1:-1]
    return Post(
        name=path.name,
        title=title,
        date=fields.get("date", "").strip(),
        categories=fields.get("categories", "").strip(),
        tags=fields.get("tags", "").strip(),
        digest=digest,
        body=rest.strip("\n"),
    )
