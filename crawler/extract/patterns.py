"""Tables and compiled patterns the generic extractor reads: labels, tags, noise markers.

Every rule here is generic (Chinese news conventions, HTML semantics); nothing names a site.
"""

from __future__ import annotations

import re

# ----------------------------------------------------------------------------- tags
# Removed before anything is read: never visible article text.
JUNK_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "object",
    "embed",
    "svg",
    "canvas",
    "select",
    "textarea",
    "button",
    "input",
    "link",
)
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
HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
# Longer hidden elements are kept: an article revealed by script is still the article.
HIDDEN_TEXT_LIMIT = 200

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
DATETIME_RE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})(?!\d)\s*日?"
    r"(?:\s*T?\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{2})(?:\s*[:：分]\s*(?P<S>\d{2}))?\s*秒?"
    r"(?:\s*(?:Z|[+-]\d{2}:?\d{2}))?)?"
)
TIME_LABEL_RE = re.compile(
    r"(?:发布|发表|发稿|更新|出版|录入|上传)?(?:时间|日期)\s*[:：]\s*(?=(?:19|20)\d{2})"
)
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
    "dc.date",
    "sailthru.date",
    "parsely-pub-date",
)
# Times printed without a year or relative to now ("09-23 07:48", "昨天 10:20", "3小时前"): read
# only in the header zone, after every absolute statement failed.
LOOSE_TIME_RE = re.compile(
    r"(?<![\d-])\d{1,2}\s*[-/月]\s*\d{1,2}\s*日?\s+\d{1,2}\s*[:：]\s*\d{2}(?![\d-])|"
    r"(?:今天|昨天|前天)\s*\d{1,2}\s*[:：]\s*\d{2}|\d{1,2}\s*(?:秒|分钟|小时|天)前|刚刚"
)
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
# Visible text counted as the header zone when the body does not follow the headline, and the
# text before the headline searched last (some layouts print the byline above it).
HEADER_ZONE_CHARS = 400
BEFORE_HEADLINE_CHARS = 200

# ----------------------------------------------------------------------------- source, authors
SOURCE_LABELS = r"(?:本文来源|文章来源|信息来源|新闻来源|稿件来源|内容来源|来源于|来源|稿源|出处)"
# In the header a label may lack its colon ("来源 CSDN"); at the body's end it must have one.
SOURCE_HEADER_RE = re.compile(SOURCE_LABELS + r"\s*[:：]?\s*(?P<value>[^\s|｜/]{2,40})")
SOURCE_TRAILER_RE = re.compile(
    r"^[（(【\[]?\s*" + SOURCE_LABELS + r"\s*[:：]\s*(?P<value>[^）)】\]]{2,40}?)\s*[）)】\]]?$"
)
AUTHOR_RE = re.compile(
    r"(?:作者|记者|撰文|执笔|文\s*/)\s*[:：/]?\s*"
    r"(?P<value>[^\s|｜:：]{2,20}(?:[ \t]+[^\s|｜:：]{2,8}){0,3})"
)
# The next label ends a value ("来源：新华网 作者：张三").
NEXT_LABEL_RE = re.compile(
    r"(?:责任编辑|编辑|责编|作者|记者|时间|日期|发布|发表|浏览|阅读|点击|字号|分享|评论|举报|"
    + SOURCE_LABELS
    + r").*$"
)
SOURCE_HINT_RE = re.compile(r"(?<!re)source|laiyuan", re.I)
AUTHOR_HINT_RE = re.compile(r"author|zuozhe|writer|byline", re.I)
HINT_TEXT_MAX = 20
# An unlabelled name printed right after the time ("2019-09-05 11:10 游民星空[整理]").
NAME_AFTER_TIME_RE = re.compile(
    r"^\s*(?P<value>[\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z0-9·]{1,15})\s*"
    r"(?:[\[【（(][^\]】）)]{1,6}[\]】）)])?\s*$"
)
VALUE_STRIP = " \t\r\n:：,，.。;；|｜/\\-—_·•()（）[]【】<>《》\"'“”‘’"
# Trailing role marks after a name ("游民星空[整理]", "新华社（原创）").
VALUE_SUFFIX_RE = re.compile(r"\s*[\[【（(][^\]】）)]{0,6}[\]】）)]?\s*$")
AUTHOR_SPLIT_RE = re.compile(r"[\s、,，/&＆;；]+")
MAX_AUTHORS = 6

# ----------------------------------------------------------------------------- body
# class/id fragments marking noise blocks inside an article container.
NOISE_HINT_RE = re.compile(
    r"share|comment|recommend|related|relate[_-]|copyright|statement|disclaimer|qrcode|"
    r"advert|sponsor|toolbar|social|breadcrumb|pagination|(?:^|[_\-\s])(?:ad|ads|adv|tags?|hot)"
    r"(?:$|[_\-\s\d])",
    re.I,
)
# Paragraph texts that are never article content.
NOISE_TEXT_RE = re.compile(
    r"^[（(]?\s*原标题\s*[:：]|^(?:免责声明|版权声明|特别声明|声明)\s*[:：]|"
    r"^[（(]?\s*点击(?:查看|看)?(?:清晰)?大图\s*[)）]?$|^(?:版权所有|copyright|©)|"
    r"^(?:分享到|扫一扫|扫码|长按(?:识别)?二维码|点击关注)",
    re.I,
)
NOISE_TEXT_MAX = 200
# A block is a link list when links hold more than this share of its text.
MAX_LINK_DENSITY = 0.5
MIN_PARAGRAPH_CHARS = 8
# Punctuation marks per character expected of prose (one in 50); less lowers a paragraph's score.
PROSE_PUNCTUATION_RATE = 0.02
# Score share a candidate's parent keeps from a paragraph two levels down.
GRANDPARENT_WEIGHT = 0.5
