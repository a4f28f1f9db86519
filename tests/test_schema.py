from __future__ import annotations

import re
from pathlib import Path

from crawler.items import REQUIRED_FIELDS, Article, article_fields, mongo_json_schema

README = Path(__file__).parent.parent / "README.md"


def test_readme_documents_every_field_in_order() -> None:
    section = README.read_text(encoding="utf-8").split("## The article schema", 1)[1]
    section = section.split("\n## ", 1)[0]
    documented = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
    expected = ["_id" if name == "id" else name for name in article_fields()]
    assert documented == expected


def test_json_schema_requires_the_required_fields() -> None:
    schema = mongo_json_schema()
    assert set(REQUIRED_FIELDS) <= set(schema["required"])
    assert "_id" in schema["required"]
    assert "id" not in schema["properties"]
    assert schema["properties"]["published_at"]["bsonType"] == "date"
    assert schema["properties"]["native_id"]["bsonType"] == ["string", "null"]


def test_article_defaults_are_independent() -> None:
    first, second = Article(), Article()
    first.authors.append("张三")
    assert second.authors == []
    assert second.schema_version == first.schema_version == 1
