from __future__ import annotations

import pytest
from itemadapter import ItemAdapter

from crawler.docs import DOCS, schema_markdown
from crawler.items import (
    REQUIRED_FIELDS,
    Article,
    ArticleAdapter,
    article_fields,
    mongo_json_schema,
)


def test_docs_schema_page_is_generated_from_the_article() -> None:
    # Regenerate with `python -m crawler.docs`.
    assert (DOCS / "schema.md").read_text(encoding="utf-8") == schema_markdown()


def test_schema_page_lists_every_field_in_order_with_required_ones_marked() -> None:
    rows = [line.split(" | ") for line in schema_markdown().splitlines() if line.startswith("| `")]
    assert [row[0].strip("| `") for row in rows] == [
        "_id" if name == "id" else name for name in article_fields()
    ]
    required = {row[0].strip("| `") for row in rows if row[2] == "yes"}
    assert required == {"_id", *REQUIRED_FIELDS, "schema_version"}


def test_json_schema_requires_the_required_fields() -> None:
    schema = mongo_json_schema()
    assert set(REQUIRED_FIELDS) <= set(schema["required"])
    assert "_id" in schema["required"]
    assert "id" not in schema["properties"]
    assert schema["properties"]["published_at"]["bsonType"] == "date"
    assert schema["properties"]["native_id"]["bsonType"] == ["string", "null"]


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
