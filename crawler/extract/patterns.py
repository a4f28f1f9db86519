"""The generic extractor's own tuning: scores, limits, and patterns composed of the vocabulary.

Words, labels, date patterns and the hidden/junk policy are Chinese news conventions shared with
the normalisers: they live in :mod:`crawler.vocabulary`. Nothing here names a site.
"""

from __future__ import annotations

import re

from crawler.vocabulary import (
    AGO,
    AUTHOR_LABEL,
    CLOSE,
    CLOSE_BRACKETS,
    DAY_WORD_CLOCK,
    JUST_NOW,
    MONTH_DAY_CLOCK,
    OPEN,
    SOURCE_LABEL,
    TIME_LABEL,
    WRITER_MARK,
)

_GROUP_NAME = re.compile(r"\(\?P<\w+>")


def _anonymous(pattern: str) -> str:
    """Return ``pattern`` without group names (alternatives of one pattern may not share one)."""
    return _GROUP_NAME.sub("(?:", pattern)


# ----------------------------------------------------------------------------- tags
# Inline tags: their text belongs to the enclosing block's paragraph.
INLINE_TAGS = frozenset(
    "a abbr b bdi bdo big cite code del dfn em font i img ins kbd label mark q s samp small span "
    "strike strong sub sup time tt u var wbr br".split()
)
HEADING_RANK = {"h1": 6, "h2": 5, "h3": 4, "h4": 3, "h5": 2, "h6": 1}
# Blocks that may be removed from a body when they are noise.
BODY_BLOCK_TAGS = frozenset(
    "div section ul ol dl table p blockquote aside nav footer figure".split()
)
# Structural containers that are never the article body.
NON_BODY_TAGS = frozenset("nav footer header aside menu".split())

# ----------------------------------------------------------------------------- text
# Text whose head is more than 1% control characters is binary, not HTML.
CONTROL_CHARS_RE = re.compile(r"[\x00-\x08\x0e-\x1f\ufffd]")
BINARY_SNIFF_CHARS = 4096
BINARY_CONTROL_SHARE = 0.01
WHITESPACE_RE = re.compile(r"\s+")
# Chinese and ASCII sentence punctuation: prose has many, menus and link lists have few.
PUNCTUATION_RE = re.compile(r"[，。；：！？、“”‘’（）《》,.;:!?]")

# ----------------------------------------------------------------------------- title
TITLE_HINT_RE = re.compile(r"title|headline|biaoti", re.I)
# Separators between a headline and the site name in <title>.
TITLE_SPLIT_RE = re.compile(r"\s*[_|｜]\s*|\s+[-—–]+\s+|(?<=\S)[-—–]+(?=[^-—–]*$)")
TITLE_META_KEYS = ("og:title", "twitter:title", "title")
TITLE_MIN_CHARS = 4
TITLE_MAX_CHARS = 150
# A headline candidate must overlap <title> by at least this share of its own text.
TITLE_MIN_OVERLAP = 0.6
# How far after a headline its byline (a printed date) is looked for.
BYLINE_CHARS = 200

# ----------------------------------------------------------------------------- time
TIME_LABEL_RE = re.compile(TIME_LABEL + r"\s*[:：]\s*(?=(?:19|20)\d{2})")
# <meta> names and properties carrying the publication time, most specific first.
TIME_META_KEYS = (
    "article:published_time",
    "og:article:published_time",
    "og:release_date",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish_date",
    "publish-date",
    "publishtime",
    "publication_date",
    "dc.date.issued",
    "dcterms.created",
    "dc.date.created",
    "dc.date",
    "weibo: article:create_at",
    "sailthru.date",
    "parsely-pub-date",
)
# <meta> names and properties carrying a page's update time: they stand for the publication time
# only where they agree with a printed date or clock (an article updated on the day it appeared).
UPDATE_META_KEYS = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "dateupdate",
    "dcterms.modified",
    "lastmod",
)
# Times printed without a year or relative to now ("09-23 07:48", "昨天 10:20", "3小时前"): read
# only in the header zone, after every absolute statement failed.
LOOSE_TIME_RE = re.compile(
    _anonymous(rf"(?<![\d-]){MONTH_DAY_CLOCK}(?![\d-])|{DAY_WORD_CLOCK}|(?<!\d){AGO}|")
    + "|".join(sorted(JUST_NOW, key=len, reverse=True)),
    re.I,
)
# A clock printed without a year ("10-08 12:00"), its parts named.
MONTH_DAY_CLOCK_RE = re.compile(MONTH_DAY_CLOCK)
# A midnight clock on a meta time is a placeholder for "date only".
MIDNIGHT_RE = re.compile(r"[T ]00:00(?::00)?(?:\.0+)?(?:Z|[+-]\d{2}:?\d{2})?$")
# Variables and JSON keys in inline scripts holding the publication time (`ct`: create time,
# the convention of several self-media platforms that print only relative times).
SCRIPT_TIME_RE = re.compile(
    r"""["']?\b(?:datePublished|pub_?time|pubDate|publish_?time|publishTime|publish_?date|ptime|"""
    r"""create_?time|createTime|ct)["']?\s*[:=]\s*["']?"""
    r"""(?P<value>(?:19|20)\d{2}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}(?::\d{2})?"""
    r"""(?:Z|[+-]\d{2}:?\d{2})?"""
    r"""|1\d{9}(?:\d{3})?)(?![\d-])"""
)
# The same for update times (schema.org ``dateModified``, ``dateUpdate``).
SCRIPT_UPDATE_TIME_RE = re.compile(
    r"""["']?\b(?:dateModified|dateUpdated?|update_?time|updateTime|mtime)["']?\s*[:=]\s*["']?"""
    r"""(?P<value>(?:19|20)\d{2}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}(?::\d{2})?"""
    r"""(?:Z|[+-]\d{2}:?\d{2})?"""
    r"""|1\d{9}(?:\d{3})?)(?![\d-])"""
)
# Visible text counted as the header zone when the body does not follow the headline, and the
# text before the headline searched last (some layouts print the byline above it).
HEADER_ZONE_CHARS = 400
BEFORE_HEADLINE_CHARS = 200

# ----------------------------------------------------------------------------- source, authors
# In the header a label may lack its colon ("来源 CSDN"); at the body's end it must have one
# (:data:`crawler.vocabulary.SOURCE_LINE`).
SOURCE_HEADER_RE = re.compile(SOURCE_LABEL + r"\s*[:：]?\s*(?P<value>[^\s|｜/]{2,40})")
AUTHOR_RE = re.compile(
    rf"(?:{AUTHOR_LABEL}|{WRITER_MARK}\s*/)\s*[:：/]?\s*"
    r"(?P<value>[^\s|｜:：]{2,20}(?:[ \t]+[^\s|｜:：]{2,8}){0,3})"
)
# <meta> names stating the source (中国日报网's ``<meta name="source" content="中国日报网">``):
# the last resort, after every printed statement.
SOURCE_META_KEYS = ("source", "article:source", "sourcename", "og:article:source")
URLISH_RE = re.compile(r"://|^www\.|\.(?:com|cn|net|org)\b", re.I)
SOURCE_HINT_RE = re.compile(r"(?<!re)source|laiyuan", re.I)
AUTHOR_HINT_RE = re.compile(r"author|zuozhe|writer|byline", re.I)
HINT_TEXT_MAX = 20
# An unlabelled name printed right after the time ("2019-09-05 11:10 游民星空[整理]").
NAME_AFTER_TIME_RE = re.compile(
    r"^\s*(?P<value>[\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z0-9·]{1,15})\s*"
    rf"(?:{OPEN}[^{re.escape(CLOSE_BRACKETS)}]{{1,6}}{CLOSE})?\s*$"
)
MAX_AUTHORS = 6

# ----------------------------------------------------------------------------- body
# class/id fragments marking noise blocks inside an article container.
NOISE_HINT_RE = re.compile(
    r"share|comment|recommend|related|relate[_-]|copyright|statement|disclaimer|qrcode|"
    r"advert|sponsor|toolbar|social|breadcrumb|pagination|(?:^|[_\-\s])(?:ad|ads|adv|tags?|hot)"
    r"(?:$|[_\-\s\d])|"
    # Pinyin names of the same blocks on Chinese sites: 评论 跟帖 留言 相关 推荐 热门.
    r"pinglun|gentie|liuyan|xiangguan|tuijian|remen|reply|discuss",
    re.I,
)
NOISE_TEXT_MAX = 200
# A block holding only the heading of a related-stories or recommendation list (相关阅读,
# 推荐阅读 …): it and everything after it in the body are not the article.
RELATED_HEADING_RE = re.compile(
    rf"^{OPEN}?\s*(?:相关(?:阅读|新闻|报道|文章|链接|推荐|资讯)|延伸阅读|推荐阅读|扩展阅读|热门推荐|"
    r"热点推荐|热文推荐|精彩推荐|猜你喜欢|更多精彩|往期回顾|往期精彩|你可能(?:还)?(?:感兴趣|喜欢))"
    rf"\s*{CLOSE}?\s*[:：]?$"
)
# A byline printed inside the body's first blocks (a time and a labelled source, author or
# time, within this many characters): it belongs to the header, not the article.
BYLINE_LABEL_RE = re.compile(rf"(?:{SOURCE_LABEL}|{AUTHOR_LABEL}|{TIME_LABEL})\s*[:：]")
BYLINE_BLOCK_MAX = 120
LEADING_BLOCKS = 3
# A short article beside a bigger block of another kind (another story under its own heading, a
# list of comments or teasers): the block that follows the headline is the article when it
# holds at least this share of the bigger block's score.
HEADLINE_BLOCK_SHARE = 0.02
# ... and a real paragraph's score at least (some forty characters of prose).
MIN_ARTICLE_SCORE = 40.0
# A block of this many or more same-tag items, each holding text, is a list (comments, teasers).
LIST_ITEMS = 5
# A block is a link list when links hold more than this share of its text.
MAX_LINK_DENSITY = 0.5
MIN_PARAGRAPH_CHARS = 8
# Punctuation marks per character expected of prose (one in 50); less lowers a paragraph's score.
PROSE_PUNCTUATION_RATE = 0.02
# Score share a candidate's parent keeps from a paragraph two levels down.
GRANDPARENT_WEIGHT = 0.5
