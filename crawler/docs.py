"""The generated reference pages: ``docs/settings.md`` from the settings table
(:mod:`crawler.options`) and ``docs/schema.md`` from the article's fields (:mod:`crawler.items`).

Regenerate both after changing either source::

    python -m crawler.docs

A test fails while a page on disk differs from what its source renders.
"""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.items import Article, mongo_json_schema
from crawler.options import TABLE, describe

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from crawler.options import Option

#: The repository's docs/ directory.
DOCS = Path(__file__).resolve().parent.parent / "docs"


def _generated_from(source: str) -> list[str]:
    """Return the comment that opens a generated page."""
    return [f"<!-- Generated from {source} by `python -m crawler.docs`: edit it there. -->", ""]


def shown_default(row: Option) -> str:
    """Return ``row``'s default as the settings table shows it."""
    if row.shown:
        return row.shown
    value = row.default
    if isinstance(value, dict):
        return ", ".join(f"{key} {share}" for key, share in value.items())
    if isinstance(value, list):
        return f"`{','.join(value)}`" if value else "empty"
    if value == "":
        return "empty"
    return f"`{value}`"


def shown_environment(row: Option) -> str:
    """Return the environment column of ``row``: its variables, or "—" when none sets it."""
    return " or ".join(f"`{variable}`" for variable in row.env) or "—"


def settings_markdown(table: Iterable[Option] = TABLE) -> str:
    """Return ``docs/settings.md``: the settings table, by section."""
    lines = [
        "# Settings",
        "",
        *_generated_from("crawler/options.py"),
        "Every project setting is namespaced `NEWS_*`. Each can be set per run with",
        "`scrapy crawl … -s NAME=value`, or in the environment under the variable of the",
        "*environment* column (the first one set wins). A true/false setting takes `true`,",
        "`false`, `1` or `0`; a list takes comma-separated values; a value its type cannot take",
        "stops the crawl with an error naming the variable. The Scrapy settings finews sets from",
        "its own variables are listed too.",
    ]
    section = None
    for row in table:
        if row.section != section:
            section = row.section
            lines += [
                "",
                f"## {section}",
                "",
                "| setting | environment | type | default | meaning |",
                "|---|---|---|---|---|",
            ]
        lines.append(
            f"| `{row.name}` | {shown_environment(row)} | {describe(row.kind)} "
            f"| {shown_default(row)} | {row.doc} |"
        )
    return "\n".join(lines) + "\n"


def schema_markdown() -> str:
    """Return ``docs/schema.md``: one row per article field, in schema order."""
    schema = mongo_json_schema()
    lines = [
        "# The article schema",
        "",
        *_generated_from("crawler/items.py"),
        "One definition, `crawler/items.py` (`Article`), is used by every spider, pipeline,",
        "exporter and the MongoDB validator (`NEWS_MONGO_VALIDATOR`). `schema_version` is",
        "bumped on any change. `id` is stored as `_id`. A *required* field is in every stored",
        "document, never empty; the *stage* column says which part of the chain sets the field.",
        "",
        "| field | BSON type | required | stage | meaning |",
        "|---|---|---|---|---|",
    ]
    for field in fields(Article):
        name = "_id" if field.name == "id" else field.name
        bson = field.metadata["bson"]
        kinds = "/".join(bson) if isinstance(bson, tuple) else bson
        required = "yes" if name in schema["required"] else ""
        lines.append(
            f"| `{name}` | {kinds} | {required} | {field.metadata['stage']} "
            f"| {field.metadata['doc']} |"
        )
    return "\n".join(lines) + "\n"


#: Each generated page and what renders it.
PAGES: dict[str, Callable[[], str]] = {
    "settings.md": settings_markdown,
    "schema.md": schema_markdown,
}


def write_pages(directory: Path = DOCS) -> list[Path]:
    """Write every generated page into ``directory``; return the pages that changed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, render in PAGES.items():
        path = directory / name
        text = render()
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


if __name__ == "__main__":
    for page in write_pages():
        sys.stdout.write(f"wrote {page}\n")
