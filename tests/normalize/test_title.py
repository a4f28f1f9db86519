from __future__ import annotations

import pytest

from crawler.normalize.title import normalize_original_title, normalize_title
from crawler.sources.rules import SITE_SUFFIX


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Real titles of the original system's feeds.
        (
            "深入贯彻实施规划构建“大计量”工作格局加快推动经济社会高质量发展",
            "深入贯彻实施规划构建“大计量”工作格局加快推动经济社会高质量发展",
        ),
        # Search API highlights.
        ("<em>央行</em>研究报告提出促进<em>消费</em>投资增长", "央行研究报告提出促进消费投资增长"),
        # Entities, full-width letters/digits; Chinese punctuation stays.
        ("中铝国际&amp;６月１６日快速回调！ＡＢＣ，ｘｙｚ", "中铝国际&6月16日快速回调！ABC，xyz"),
        # U+3000, NBSP, newlines and tabs collapse.
        ("　　消费电子股大爆发！\xa0旺季迎来\n需求复苏\t ", "消费电子股大爆发！ 旺季迎来 需求复苏"),
        # Site suffixes of <title>: general ones, and those sources declare (East Money's).
        ("中信证券：开年后市场震荡向上_东方财富网", "中信证券：开年后市场震荡向上"),
        ("基金周报 - 天天基金网", "基金周报"),
        ("计量发展规划解读 - 中国市场监管新闻网", "计量发展规划解读"),
        ("央行降准_新浪财经_新浪网", "央行降准"),
        # A literal angle bracket in text survives (it was escaped on the page).
        ("《&lt;蒙特利尔议定书&gt;基加利修正案》生效", "《<蒙特利尔议定书>基加利修正案》生效"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        # Comparisons are text, not tags.
        ("3<5 且 6>4 的行情", "3<5 且 6>4 的行情"),
        ("A股<5%的公司>", "A股<5%的公司>"),
        ("<b>注意</b><!-- x -->：市盈率<10倍", "注意：市盈率<10倍"),
    ],
)
def test_normalize_title(raw: str, expected: str) -> None:
    assert normalize_title(raw, suffix=SITE_SUFFIX) == expected


@pytest.mark.parametrize(
    "raw", [None, "", "   ", "\u3000\u3000", "&nbsp;&nbsp;", "<em></em>", "&#8203;"]
)
def test_unusable_titles_become_none(raw: str | None) -> None:
    assert normalize_title(raw) is None


def test_site_name_alone_is_kept_rather_than_emptied() -> None:
    assert normalize_title("东方财富网", suffix=SITE_SUFFIX) == "东方财富网"
    assert normalize_title("新浪财经") == "新浪财经"


def test_general_suffixes_name_no_source() -> None:
    # The normaliser's own table is general; a source's names come from its cleaning rules.
    assert normalize_title("央行降准_东方财富网") == "央行降准_东方财富网"
    assert normalize_title("央行降准_中国市场监管新闻网") == "央行降准"


def test_absurd_length_is_capped() -> None:
    title = normalize_title("长" * 5000, max_length=200)
    assert title is not None
    assert len(title) == 200
    assert title.endswith("…")


def test_original_title_label_removed() -> None:
    assert normalize_original_title("原标题：A股后市怎么走？") == "A股后市怎么走？"
    assert normalize_original_title("原标题: 降准_东方财富网", suffix=SITE_SUFFIX) == "降准"
