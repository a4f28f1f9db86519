"""The byline reader's times follow the vocabulary's one rule: what the dates stage would accept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.extract import extract_article
from crawler.extract.byline import epoch_to_text, first_datetime

NOW = datetime(2024, 3, 6, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("2024-03-05 10:20", "2024-03-05 10:20"),
        # Beyond now + NEWS_MAX_FUTURE_HOURS: an event's date, not the publish time.
        ("报名截止 2031-12-31 发布 2024-03-05 10:20", "2024-03-05 10:20"),
        # No such calendar day, no such clock.
        ("2019-02-30 | 2019-03-01", "2019-03-01"),
        ("2019-03-01 24:30", None),
        # Before NEWS_MIN_YEAR.
        ("1989-06-01", None),
    ],
)
def test_first_plausible_datetime(text: str, found: str | None) -> None:
    match = first_datetime(text, now=NOW)
    assert (match[0].strip() if match else None) == found


def test_a_real_date_counts_as_a_value_whatever_its_year() -> None:
    # Names are checked for being dates, not for being publish times.
    assert first_datetime("2031-12-31") is not None


def test_epoch_in_china_time() -> None:
    assert epoch_to_text("1653919229000") == "2022-05-30T22:00:29+08:00"
    assert epoch_to_text("1653919229") == "2022-05-30T22:00:29+08:00"


def test_weekday_and_afternoon_clock_in_a_byline() -> None:
    html = """<html><head><title>央行宣布降准0.5个百分点_示例网</title></head><body>
    <h1>央行宣布降准0.5个百分点</h1><div class="info">2024年2月5日 星期一 下午3:05 来源：新华社</div>
    <div class="content"><p>中国人民银行决定于2024年2月5日下调金融机构存款准备金率0.5个百分点，
    此次降准为全面降准，除已执行5%存款准备金率的部分法人金融机构外，对其他金融机构普遍下调。</p>
    <p>本次下调后，金融机构加权平均存款准备金率约为7.0%，将向市场提供长期流动性约1万亿元。</p></div>
    </body></html>""".encode()
    article = extract_article(html, now=NOW)
    assert article.publish_time == "2024年2月5日 星期一 下午3:05"
    assert article.publisher == "新华社"
