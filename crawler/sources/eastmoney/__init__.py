"""East Money (东方财富): everything the crawler knows of the site, one module per job.

- :mod:`.endpoints`: list API and article URLs, columns, headers, the login redirect;
- :mod:`.ids`: the article code, its ``NW`` infoCode, the URLs holding one;
- :mod:`.payload`: JSON/JSONP bodies and :class:`FeedError`;
- :mod:`.listing`: feed shapes, the listing parser, 7×24 flashes, the listing/page precedence;
- :mod:`.pages`: the article pages (current and old layouts) and ``GetNewsText`` bodies;
- :mod:`.securities`: the securities a story is about (secids, the market table, ``stockList``
  and body stock links);
- :mod:`.cleaning`: its body furniture, names and title suffixes, handed to the stages by
  :mod:`crawler.sources.rules`.

Everything known about the site is in ``../shared/sources.md`` §1–3. Parsers read, pipelines
normalise: every string returned is as the feed or page printed it.
"""

from __future__ import annotations

from crawler.sources.eastmoney.endpoints import (
    ALL_FLASHES,
    ARTICLE_URL,
    BROWSER_USER_AGENT,
    COLUMN_FIELDS,
    DEFAULT_URLS,
    FAST_COLUMNS,
    LOGIN_URL_RE,
    NEWS_COLUMNS,
    REFERERS,
    VOLATILE_PARAMETERS,
    column_api_url,
    fast_news_url,
    req_trace,
    stock_news_url,
)
from crawler.sources.eastmoney.ids import (
    INFO_CODE_PREFIX,
    SOURCE,
    article_url,
    code_in_link,
    code_in_text,
    info_code,
    native_id,
)
from crawler.sources.eastmoney.listing import (
    CFH_MARKER,
    FEEDS,
    PRECEDENCE,
    FeedShape,
    ListingParser,
    flash_article,
    flash_needs_page,
    flash_text,
)
from crawler.sources.eastmoney.pages import (
    ARTICLE_LAYOUTS,
    EastMoneyArticlePage,
    EastMoneyArticlePageOld,
    news_text_body,
    parse_article_page,
    utf8_page,
)
from crawler.sources.eastmoney.payload import FeedError, load_payload

__all__ = [
    "ALL_FLASHES",
    "ARTICLE_LAYOUTS",
    "ARTICLE_URL",
    "BROWSER_USER_AGENT",
    "CFH_MARKER",
    "COLUMN_FIELDS",
    "DEFAULT_URLS",
    "FAST_COLUMNS",
    "FEEDS",
    "INFO_CODE_PREFIX",
    "LOGIN_URL_RE",
    "NEWS_COLUMNS",
    "PRECEDENCE",
    "REFERERS",
    "SOURCE",
    "VOLATILE_PARAMETERS",
    "EastMoneyArticlePage",
    "EastMoneyArticlePageOld",
    "FeedError",
    "FeedShape",
    "ListingParser",
    "article_url",
    "code_in_link",
    "code_in_text",
    "column_api_url",
    "fast_news_url",
    "flash_article",
    "flash_needs_page",
    "flash_text",
    "info_code",
    "load_payload",
    "native_id",
    "news_text_body",
    "parse_article_page",
    "req_trace",
    "stock_news_url",
    "utf8_page",
]
