"""East Money's API bodies: JSON and JSONP decoded, every kind of response without data refused."""

from __future__ import annotations

import json

import pytest

from crawler.sources.eastmoney.payload import FeedError, load_payload
from tests.conftest import FIXTURES

EASTMONEY = FIXTURES / "eastmoney"


def test_jsonp_with_code_zero_loads_when_the_code_is_not_checked() -> None:
    text = (EASTMONEY / "FIXTURE_em_search-api-web_jsonp_cmsArticleWebOld.txt").read_text("utf-8")
    payload = load_payload(text, check_code=False)
    assert payload["result"]["cmsArticleWebOld"][0]["code"] == "202609243883852788"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "html"),
        ('{"code":"1","data":{"list":[', "not_json"),
        ("cb({not json})", "not_json"),
        ('{"code":"-1","message":"参数错误"}', "api_error"),
        ('{"code":0,"message":"OK"}', "api_error"),
        ('{"message":"no code"}', "api_error"),
        ("[1, 2]", "api_error"),
        ("[" * 5000, "not_json"),  # json.loads: RecursionError
        ('{"a":' * 5000, "not_json"),
        ("cb(" + "[" * 5000 + ")", "not_json"),
    ],
)
def test_bad_list_responses_raise_feed_error(text: str, reason: str) -> None:
    with pytest.raises(FeedError) as info:
        load_payload(text)
    assert info.value.reason == reason


@pytest.mark.parametrize("code", ['"1"', "1"])
def test_success_code_as_string_or_number(code: str) -> None:
    assert load_payload(f'{{"code":{code},"data":{{}}}}') == {
        "code": json.loads(code),
        "data": {},
    }
