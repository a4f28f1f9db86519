"""East Money's endpoints and manners: list API and article URLs, columns, headers, login.

Everything known about the site is in ``../shared/sources.md`` §1–3; the URLs here are the
defaults of the ``NEWS_EASTMONEY_*`` / ``NEWS_FINEWS_*`` settings named as keys.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

#: Column ids of the news columns (sources.md §2); the default column list of the spider.
NEWS_COLUMNS: dict[int, str] = {
    344: "财经导读",
    345: "要闻精华",
    350: "国内经济",
    351: "国际经济",
    353: "证券聚焦",
    355: "产经新闻",
    1207: "财经早餐",
    408: "板块聚焦",
}

#: The 7×24 flash list's topic columns (``fastColumn``). Only 102, every flash, is known (real
#: captures, several projects); the others are ASSUMED from RSSHub's East Money route, the map
#: docs/eastmoney.md prints, which another project's map contradicts in places.
ALL_FLASHES = 102
FAST_COLUMNS: dict[int, str] = {
    100: "焦点", 101: "要闻", 102: "7×24 全部",
    103: "上市公司", 104: "中国公司", 105: "全球公司",
    106: "商品", 107: "外汇", 108: "债券", 109: "基金",
    110: "地区·中国", 111: "地区·美国", 112: "地区·欧元区", 113: "地区·英国",
    114: "地区·日本", 115: "地区·加拿大", 116: "地区·澳洲", 117: "地区·新兴市场",
    118: "央行·中国", 119: "央行·美联储", 120: "央行·欧洲", 121: "央行·英国",
    122: "央行·日本", 123: "央行·加拿大", 124: "央行·澳洲",
    125: "数据·中国", 126: "数据·美国", 127: "数据·欧元区", 128: "数据·英国",
    129: "数据·日本", 130: "数据·加拿大", 131: "数据·澳洲",
}  # fmt: skip

#: The article page of a code: what the site links to, and where a code without a URL points.
ARTICLE_URL = "https://finance.eastmoney.com/a/{code}.html"

#: Endpoints, overridable by the ``NEWS_EASTMONEY_*`` / ``NEWS_FINEWS_*`` settings named as keys.
DEFAULT_URLS: dict[str, str] = {
    "NEWS_EASTMONEY_COLUMN_API": "https://np-listapi.eastmoney.com/comm/web/getNewsByColumns",
    "NEWS_EASTMONEY_FAST_API": "https://np-weblist.eastmoney.com/comm/web/getFastNewsList",
    "NEWS_EASTMONEY_ARTICLE_URL": ARTICLE_URL,
    # Known only from other projects' code (zvt, akshare): docs/eastmoney.md, "News per stock".
    "NEWS_EASTMONEY_STOCK_API": "https://np-listapi.eastmoney.com/comm/wap/getListInfo",
    "NEWS_FINEWS_ROLLING_URL": "http://183.136.162.242/web/webapi?type=102&count=100&newsid=1",
    "NEWS_FINEWS_MEDIA_URL": "http://183.136.162.242/web/webapi?type=45&count=100&newsid=1",
    "NEWS_FINEWS_MARKET_URL": (
        "http://43.240.125.15:1818/information/newmarket/web/webapi"
        "?marketType={market_type}&count=100"
    ),
    "NEWS_FINEWS_BODY_URL": "http://choicewzp1.eastmoney.com/NewsData/GetNewsText.do?id={info_code}",
}

#: What the site's own pages send: a desktop browser, and a Referer on the site.
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
REFERERS: dict[str, str] = {
    "column": "https://finance.eastmoney.com/",
    "724": "https://kuaixun.eastmoney.com/",
    "stock": "https://wap.eastmoney.com/",
    "article": "https://finance.eastmoney.com/",
}

#: Where the site sends a request that needs an account: a redirect there is a bad response.
LOGIN_URL_RE = re.compile(r"passport\d*\.eastmoney\.com|/login", re.IGNORECASE)

COLUMN_FIELDS = "code,showTime,title,mediaName,summary,image,url,uniqueUrl,Np_dst"


#: Query parameters that change with every request (``req_trace``): not part of what it fetches.
VOLATILE_PARAMETERS = ("req_trace",)


def req_trace() -> str:
    """Return the millisecond timestamp the list APIs expect as ``req_trace``."""
    return str(int(time.time() * 1000))


def column_api_url(base: str, column: int, page_index: int, page_size: int) -> str:
    """Return the ``getNewsByColumns`` URL of one column page."""
    query = {
        "client": "web",
        "biz": "web_news_col",
        "column": column,
        "order": 1,
        "needInteractData": 0,
        "page_index": page_index,
        "page_size": page_size,
        "req_trace": req_trace(),
        "fields": COLUMN_FIELDS,
        "types": "1,20",
    }
    return f"{base}?{urlencode(query, safe=',')}"


def fast_news_url(base: str, sort_end: str, page_size: int, column: int = ALL_FLASHES) -> str:
    """Return the ``getFastNewsList`` URL of the page of topic ``column`` that ends before
    cursor ``sort_end``."""
    query = {
        "client": "web",
        "biz": "web_724",
        "fastColumn": column,
        "sortEnd": sort_end,
        "pageSize": page_size,
        "req_trace": req_trace(),
    }
    return f"{base}?{urlencode(query)}"


def stock_news_url(base: str, secid: str, page_index: int, page_size: int) -> str:
    """Return the ``getListInfo`` URL of one page of a security's news (``secid``: ``1.600519``)."""
    query = {
        "client": "wap",
        "type": 1,
        "mTypeAndCode": secid,
        "pageSize": page_size,
        "pageIndex": page_index,
        "req_trace": req_trace(),
    }
    return f"{base}?{urlencode(query)}"
