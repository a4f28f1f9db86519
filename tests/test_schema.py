from __future__ import annotations

import re
from pathlib import Path

import pytest
from itemadapter import ItemAdapter

from crawler.items import (
    REQUIRED_FIELDS,
    Article,
    ArticleAdapter,
    article_fields,
    mongo_json_schema,
)

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


def test_article_adapter_reads_and_writes_articles_like_itemadapter() -> None:
    article = Article(title="标题", authors=["甲"])
    fast, stock = ArticleAdapter(article), ItemAdapter(article)
    for name in ("title", "authors", "body_html", "no_such_field"):
        assert fast.get(name) == stock.get(name)
    assert fast.get("no_such_field", "default") == "default"
    fast["publisher"] = "新华社"
    assert article.publisher == "新华社"
    assert dict(fast) == dict(stock)
    with pytest.raises(KeyError):
        fast["no_such_field"] = 1


def test_article_adapter_wraps_other_items_as_itemadapter_does() -> None:
    item = {"title": "标题"}
    adapter = ArticleAdapter(item)
    assert adapter.get("title") == "标题"
    assert adapter.get("url", "none") == "none"
    adapter["url"] = "https://example.com/"
    assert item == {"title": "标题", "url": "https://example.com/"}
