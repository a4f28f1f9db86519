"""The shared conventions (crawler.vocabulary) and the choice of a source's rules (crawler.sources.rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import lxml.html
import pytest

from crawler.normalize.body import NO_RULES
from crawler.normalize.dates import datetime_from_match
from crawler.sources.eastmoney.cleaning import BODY_RULES as EASTMONEY
from crawler.sources.rules import AGGREGATOR_NAMES, body_rules
from crawler.vocabulary import (
    AUTHOR_LINE,
    CHINA_TZ,
    DATETIME_RE,
    EDITOR_LINE,
    HIDDEN_TEXT_LIMIT,
    SOURCE_LINE,
    clean_label_value,
    cut_at_label_word,
    is_hidden,
    is_hidden_junk,
    is_plausible,
    split_names,
)

NOW = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)


def china(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=CHINA_TZ)


@pytest.mark.parametrize(
    ("at", "plausible"),
    [
        (NOW + timedelta(hours=23), True),
        (NOW + timedelta(hours=25), False),
        (datetime(1989, 12, 31, 23, 59, tzinfo=UTC), False),
        (datetime(1990, 1, 1, tzinfo=UTC), True),
        (datetime(9999, 12, 31, 23, tzinfo=UTC), False),
    ],
)
def test_one_plausibility_rule_with_the_settings_defaults(at: datetime, plausible: bool) -> None:
    assert is_plausible(at, NOW) is plausible


def test_plausibility_takes_the_stage_limits() -> None:
    assert is_plausible(NOW + timedelta(hours=47), NOW, max_future=timedelta(hours=48))
    assert not is_plausible(datetime(1999, 6, 1, tzinfo=UTC), NOW, min_year=2000)


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2022-05-20 09:51:48", china(2022, 5, 20, 9, 51, 48)),
        ("2022年5月20日 星期五 下午3:05", china(2022, 5, 20, 15, 5)),
        ("2022年05月20日 09时51分", china(2022, 5, 20, 9, 51)),
        ("2019/9/5T11:10", china(2019, 9, 5, 11, 10)),
        ("发布于 2022.05.20", china(2022, 5, 20)),
        ("2022-05-20 09:51 PM", china(2022, 5, 20, 21, 51)),
        ("2022-05-20T01:51:48Z", datetime(2022, 5, 20, 1, 51, 48, tzinfo=UTC)),
        # "Z" opening a word is no zone.
        ("2019-09-05 11:10 Zhang", china(2019, 9, 5, 11, 10)),
        ("2019-09-05-2019-09-10", china(2019, 9, 5)),
        ("2022-05-20 09:51:48 +0800", china(2022, 5, 20, 9, 51, 48)),
        ("2019-02-30", None),
        ("2019-09-05 25:10", None),
    ],
)
def test_printed_datetimes(text: str, moment: datetime | None) -> None:
    match = DATETIME_RE.search(text)
    assert match is not None
    assert datetime_from_match(match, CHINA_TZ) == moment


@pytest.mark.parametrize("text", ["2019-09-051", "v1.2.3", "12019-09-05"])
def test_not_datetimes(text: str) -> None:
    assert DATETIME_RE.search(text) is None


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("（文章来源：第一财经）", "第一财经"),
        ("(来源：新华社)", "新华社"),
        ("【来源：新华社】", "新华社"),
        ("[稿源：证券时报]", "证券时报"),
        ("本文来源于：财联社", "财联社"),
        ("来源：" + "国家统计局" * 9, None),  # longer than any credit
        ("图片来源：霍尼韦尔官网", None),  # a caption's
    ],
)
def test_source_line(line: str, value: str | None) -> None:
    match = SOURCE_LINE.match(line)
    assert (match["value"] if match else None) == value


def test_editor_and_author_lines_in_brackets() -> None:
    editor = EDITOR_LINE.match("【责任编辑：王五】")
    assert editor is not None
    assert editor["value"] == "王五"
    author = AUTHOR_LINE.match("（通讯员 李琴雯 刘会）")
    assert author is not None
    assert author["value"] == "李琴雯 刘会"
    assert AUTHOR_LINE.match("记者从市场监管总局获悉，新规出台。") is None


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("（责任编辑：王五 来源：新华社）", "王五"),
        ("来源：第一财经  作者：张三", "第一财经"),
        ("新华网 | 发布时间：2022-05-20", "新华网"),
        ("□广东省人民政府副省长陈良贤", "广东省人民政府副省长陈良贤"),
        # In a field, a label word without its colon is part of the name.
        ("上海发布", "上海发布"),
    ],
)
def test_clean_label_value(raw: str, value: str) -> None:
    assert clean_label_value(raw) == value


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("新华网 作者 张三", "新华网 "),
        ("中国新闻网 发布时间 2019", "中国新闻网 "),
        ("游民星空 本报记者 李四", "游民星空 "),
        ("魏星", "魏星"),
    ],
)
def test_byline_text_ends_at_a_label_word(text: str, cut: str) -> None:
    assert cut_at_label_word(text) == cut


def test_split_names() -> None:
    assert split_names("张三、李四/王五 赵六&钱七；孙八") == [
        "张三",
        "李四",
        "王五",
        "赵六",
        "钱七",
        "孙八",
    ]
    assert split_names("  ") == []


@pytest.mark.parametrize(
    ("attributes", "hidden"),
    [
        ({"style": "display:none"}, True),
        ({"style": "DISPLAY : NONE;"}, True),
        ({"style": "color:red; visibility:\thidden"}, True),
        ({"hidden": ""}, True),
        ({"aria-hidden": "true"}, True),
        ({"aria-hidden": "false"}, False),
        ({"style": "display:block"}, False),
        ({"class": "hidden-xs"}, False),
    ],
)
def test_what_hides_an_element(attributes: dict[str, str], hidden: bool) -> None:
    assert is_hidden(attributes) is hidden


def test_hidden_junk_is_short_hidden_text() -> None:
    short = lxml.html.fragment_fromstring(f"<div hidden>{'字' * HIDDEN_TEXT_LIMIT}</div>")
    long = lxml.html.fragment_fromstring(f"<div hidden>{'字' * (HIDDEN_TEXT_LIMIT + 1)}</div>")
    shown = lxml.html.fragment_fromstring("<div>字</div>")
    assert is_hidden_junk(short)
    assert not is_hidden_junk(long)
    assert not is_hidden_junk(shown)


@pytest.mark.parametrize(
    ("source", "url", "rules"),
    [
        ("eastmoney", "https://finance.eastmoney.com/a/202205202386046762.html", EASTMONEY),
        ("eastmoney", None, EASTMONEY),
        # East Money's pages read by the generic spider or `scrapy extract`.
        ("site", "https://finance.eastmoney.com/a/202205202386046762.html", EASTMONEY),
        ("extract", "http://STOCK.EASTMONEY.COM/a/1.html", EASTMONEY),
        ("site", "https://www.cmrnn.com.cn/content/2022-05/20/content_1.html", NO_RULES),
        ("site", "https://noteastmoney.com/a/1.html", NO_RULES),
        ("site", "https://eastmoney.com.evil.example/a/1.html", NO_RULES),
        ("extract", "file:///tmp/page.html", NO_RULES),
        (None, "http://[::1", NO_RULES),
    ],
)
def test_which_body_rules_apply(source: str | None, url: str | None, rules: object) -> None:
    assert body_rules(source, url) is rules


def test_aggregator_names() -> None:
    assert AGGREGATOR_NAMES == {"eastmoney": "东方财富网"}
