"""Chinese news conventions, once: the words, patterns and limits every reader of a page shares.

The generic extractor (:mod:`crawler.extract`) and the normalisers (:mod:`crawler.normalize`)
both read this module; nothing here names a site (a site's own rules live in its
``crawler/sources/<site>/cleaning.py``).

Sections: time (zone, plausibility), dates (absolute and relative printed times), labels
and credit lines (来源/作者/记者/通讯员/责任编辑/编辑, bracketed or not), values (edges, the
next label, names), hidden and junk markup, boilerplate texts.
"""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from collections.abc import Mapping

    from lxml.html import HtmlElement

# ----------------------------------------------------------------------------- time
# The zone of every source that prints times without one (all Chinese sources do).
CHINA_ZONE_NAME = "Asia/Shanghai"
CHINA_TZ = ZoneInfo(CHINA_ZONE_NAME)
# The plausibility window's defaults (NEWS_MIN_YEAR, NEWS_MAX_FUTURE_HOURS): no Chinese news site
# published before 1990, and a source's clock may run a little ahead of ours.
MIN_YEAR = 1990
MAX_FUTURE_HOURS = 24


def is_plausible(
    at: datetime,
    now: datetime,
    *,
    max_future: timedelta = timedelta(hours=MAX_FUTURE_HOURS),
    min_year: int = MIN_YEAR,
) -> bool:
    """Tell whether a publish time lies between 1 January ``min_year`` and ``now + max_future``."""
    earliest = datetime.combine(date(min_year, 1, 1), time(), tzinfo=UTC)
    return earliest <= at <= now + max_future


# ----------------------------------------------------------------------------- dates
# A clock, 12- or 24-hour: ``09:51``, ``09:51:48.5``, ``下午3:05``, ``9:51 PM``, ``10时30分``
# (the unit after the last number, 分 or 秒, is part of it when on the same line: the 分 of a
# 分享 link below a time is not).
# Its groups are read by :func:`crawler.normalize.dates.datetime_from_match`.
CLOCK = (
    r"(?:(?P<meridiem>上午|下午)\s*)?(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})"
    r"(?:\s*[:：分]\s*(?P<S>\d{1,2})(?:\.\d+)?)?(?:[ \t]*[分秒])?(?:\s*(?P<ampm>[AP])\.?M\b\.?)?"
)
# A printed date, optionally a weekday, a clock and a zone:
# ``2022-05-20 09:51:48 +0800``, ``2022年5月20日 星期五 下午3:05``, ``2019/9/5T11:10``.
# The groups are read by :func:`crawler.normalize.dates.datetime_from_match`. A zone is never the
# start of a range (``2019-09-05-2019-09-10``), nor a word (``11:10 Zhang``).
# No two ``\s*`` meet before a required character: on a run of spaces that is not followed by
# it they would share the run out in every possible way before failing (time grows as its cube).
DATETIME_RE = re.compile(
    r"(?<!\d)(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})(?!\d)(?:\s*日)?"
    r"(?:\s*(?:星期|周)[一二三四五六日天])?"
    rf"(?:\s*(?:T\s*)?{CLOCK})?"
    r"\s*(?P<zone>Z(?![A-Za-z])|[+-]\d{2}:?\d{2}(?![\d-])|GMT[+-]\d{1,2}|UTC[+-]\d{1,2})?",
    re.IGNORECASE,
)
# Times printed without a year, or relative to now. Patterns without anchors: the normaliser
# matches them whole, the extractor finds them in running text.
MONTH_DAY_CLOCK = (
    r"(?P<month>\d{1,2})\s*[-/月]\s*(?P<day>\d{1,2})(?:\s*日)?\s+"
    r"(?P<hour>\d{1,2})\s*[:：]\s*(?P<minute>\d{2})(?:\s*[:：]\s*(?P<second>\d{2}))?"
)
DAY_OFFSETS: dict[str, int] = {"今天": 0, "昨天": 1, "前天": 2}
DAY_WORD_CLOCK = (
    r"(?P<word>" + "|".join(DAY_OFFSETS) + r")\s*"
    r"(?P<hour>\d{1,2})\s*[:：]\s*(?P<minute>\d{2})(?:\s*[:：]\s*(?P<second>\d{2}))?"
)
AGO_UNITS: dict[str, timedelta] = {
    "秒": timedelta(seconds=1),
    "分钟": timedelta(minutes=1),
    "分": timedelta(minutes=1),
    "小时": timedelta(hours=1),
    "个小时": timedelta(hours=1),
    "天": timedelta(days=1),
    "日": timedelta(days=1),
    "周": timedelta(weeks=1),
    "星期": timedelta(weeks=1),
}
AGO = r"(?P<amount>\d+|半)\s*(?P<unit>" + "|".join(AGO_UNITS) + r")\s*前"
JUST_NOW: frozenset[str] = frozenset({"刚刚", "刚才", "just now"})

# ----------------------------------------------------------------------------- labels
# Each is a regular expression alternation; compose them, never copy their words.
SOURCE_LABEL = r"(?:文章|本文|信息|新闻|内容|稿件)?(?:来源|稿源|出处)(?:于)?"
EDITOR_LABEL = r"(?:责任编辑|责编|编辑|校对)"
AUTHOR_LABEL = r"(?:作者|撰文|执笔|本报记者|记者|通讯员)"
# "文" alone credits the writer only where a line opens with it (``文：张三``) or a slash
# follows it (``文/张三``): anywhere else it is a word.
WRITER_MARK = "文"
TIME_LABEL = r"(?:发布|发表|发稿|更新|出版|录入|上传)?(?:时间|日期)"
# Words of a byline's tools and counters (发布 alone, 浏览, 字号 …): they end a value too.
TOOL_LABEL = r"(?:发布|发表|浏览|阅读|点击|字号|分享|评论|举报)"
# Any label that starts another field of a byline.
NEXT_LABEL = rf"(?:{SOURCE_LABEL}|{EDITOR_LABEL}|{AUTHOR_LABEL}|{TIME_LABEL}|{TOOL_LABEL})"
COLON = r"[:：]"
# A credit line may stand in brackets of these kinds: （来源：X） (来源：X) 【来源：X】 [来源：X].
OPEN_BRACKETS = "（(【["
CLOSE_BRACKETS = "）)】]"
OPEN = "[" + re.escape(OPEN_BRACKETS) + "]"
CLOSE = "[" + re.escape(CLOSE_BRACKETS) + "]"

# Whole lines that credit the article, as they end (or open) a body.
SOURCE_LINE = re.compile(
    rf"^{OPEN}?\s*{SOURCE_LABEL}\s*{COLON}\s*(?P<value>.{{1,40}}?)\s*{CLOSE}?$"
)
EDITOR_LINE = re.compile(
    rf"^{OPEN}?\s*{EDITOR_LABEL}\s*{COLON}\s*(?P<value>.{{1,30}}?)\s*{CLOSE}?$"
)
PERSON = r"[\u4e00-\u9fff·A-Za-z]{2,6}"
# ``□作者`` lines, or a label, a separator and short names (``记者 张三 李四``, ``作者：梓隆``).
AUTHOR_LINE = re.compile(
    rf"^(?:□\s*(?P<boxed>.{{1,40}})"
    rf"|{OPEN}?\s*(?:{AUTHOR_LABEL}|{WRITER_MARK})\s*[:：\s]\s*"
    rf"(?P<value>{PERSON}(?:[\s、,，]+{PERSON}){{0,5}})\s*{CLOSE}?)$"
)
# The kinds of outlet a name ends with (新华社, 证券时报网, 央视新闻客户端, 第一财经, e公司), and
# outlets whose names end otherwise. What a credit without a label may name.
OUTLET_SUFFIX = r"(?:社|网|报|刊|台|新闻|网站|客户端|财经|日报|周刊|杂志|报道|传媒|媒体|公司|频道)"
OUTLET_NAMES = ("券商中国", "格隆汇", "华尔街见闻", "财新", "路透", "彭博", "金十数据", "证券之星")
# Words that open a bracket at a text's end without naming an outlet (（此前报道） （本报）
# （附名单）); nor does a kind of report alone (（一季报） （年报） （快报）).
_NOT_OUTLET = (
    r"(?!此前|相关|详见|详细|更多|参见|本报|本网|附|见|据)"
    r"(?![一二三四半全]?[年季月周日晨快公简研]报\s*[）)])"
)
# An outlet credited in brackets, without a label, at the very end of a text: after its last
# sentence (``…增长8.4%。（央视新闻客户端）``) or alone. Tags may stand around the brackets.
TRAILING_CREDIT = re.compile(
    r"(?:^|(?P<end>[。！？!?”」』…]))(?P<tags>(?:<[^<>]+>)*)\s*[（(]\s*"
    rf"(?P<value>{_NOT_OUTLET}(?:[\w·\- ]{{1,18}}?{OUTLET_SUFFIX}|{'|'.join(OUTLET_NAMES)}))"
    r"\s*[）)](?P<close>(?:<[^<>]+>)*)\s*$"
)

# ----------------------------------------------------------------------------- values
# Punctuation, brackets and quotes around a value (``：新华社）`` → ``新华社``).
EDGE_PUNCT = " \t\r\n:：,，.。;；|｜/\\-—_·•()（）[]【】<>《》\"'“”‘’"
# A label opens a value when a colon, a space or a slash follows it, or, for the label words,
# when at least two characters follow (``记者张三``); a label alone is no value. ``文`` needs
# its mark (``文汇报`` is a paper), and no name is cut to one character (``记者站``, ``编辑部``).
_LABEL_WORD = rf"(?:{SOURCE_LABEL}|{EDITOR_LABEL}|{AUTHOR_LABEL})"
_LEADING_LABEL = re.compile(
    rf"^\s*(?:(?:{_LABEL_WORD}|{WRITER_MARK})(?:\s*{COLON}\s*|\s*/\s*|\s+|$)"
    rf"|{_LABEL_WORD}(?=[^\s:：/]{{2}}))"
)
# In a value read from a field, only a label with its colon starts another field (``上海发布`` is
# a name), and so do a wide gap or a bar.
_NEXT_FIELD = re.compile(rf"\s*{NEXT_LABEL}\s*{COLON}|\s{{2,}}|\s*[|｜]\s*")
# In text read off a page's byline, labels stand without colons (``来源 新华网 作者 张三``): a
# label word alone ends the value.
_NEXT_LABEL_WORD = re.compile(NEXT_LABEL + r".*$", re.S)
# A role mark after a name: ``游民星空[整理]``, ``新华社（原创）``.
ROLE_MARK = re.compile(rf"\s*{OPEN}[^{re.escape(CLOSE_BRACKETS)}]{{0,6}}{CLOSE}?\s*$")
NAME_SEPARATORS = re.compile(r"[\s、,，/&＆;；]+")
# The box some papers print before a byline (``□广东省人民政府副省长陈良贤``).
BYLINE_BOX = "□"


def clean_label_value(text: str) -> str:
    """Return a field's value without its leading label, the fields after it and edge marks.

    ``（责任编辑：王五 来源：新华社）`` → ``王五``.
    """
    text = _LEADING_LABEL.sub("", text.strip(EDGE_PUNCT), count=1)
    text = _NEXT_FIELD.split(text, maxsplit=1)[0]
    return text.strip(EDGE_PUNCT).lstrip(BYLINE_BOX).strip(EDGE_PUNCT)


def cut_at_label_word(text: str) -> str:
    """Return byline text up to the first label word (``新华网 作者 张三`` → ``新华网 ``)."""
    return _NEXT_LABEL_WORD.sub("", text)


def split_names(text: str) -> list[str]:
    """Split a byline's value into names (``张三、李四/王五`` → three names)."""
    return [name for name in NAME_SEPARATORS.split(text) if name]


# ----------------------------------------------------------------------------- markup
# Elements never holding visible text: removed before anything is read.
JUNK_TAGS: frozenset[str] = frozenset({
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "select", "textarea", "button", "input", "link",
})  # fmt: skip
# What an article body never holds besides junk: frames, forms, media players, a document's head.
# (The extractor keeps forms: some sites wrap the whole page in one.)
BODY_DROP_TAGS: frozenset[str] = JUNK_TAGS | {
    "frame", "form", "math", "meta", "head", "title", "audio", "video", "noembed", "noframes",
}  # fmt: skip
# Inline styles are compared in ASCII lower case without CSS white space ("DISPLAY: NONE").
_STYLE_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase, " \t\n\r")
HIDING_STYLES = ("display:none", "visibility:hidden")
# A hidden element holding more text than this is kept: an article revealed by script is still
# the article (sites hide the body until a script has laid it out).
HIDDEN_TEXT_LIMIT = 200


def is_hidden(attributes: Mapping[str, str]) -> bool:
    """Tell whether an element's attributes hide it (hidden, aria-hidden, display, visibility)."""
    if "hidden" in attributes or attributes.get("aria-hidden") == "true":
        return True
    style = attributes.get("style")
    if not style:
        return False
    folded = style.translate(_STYLE_FOLD)
    return any(hiding in folded for hiding in HIDING_STYLES)


def is_hidden_junk(element: HtmlElement) -> bool:
    """Tell whether an element is hidden and too short to be an article revealed by script."""
    return is_hidden(element.attrib) and len(element.text_content()) <= HIDDEN_TEXT_LIMIT


# ----------------------------------------------------------------------------- boilerplate
ORIGINAL_TITLE_LABEL = rf"原标题\s*{COLON}"
# Where a kind of boilerplate is removed: wherever it stands, or only among a body's first or last
# blocks (its edges), where the words are also those of news (AI labelling, investor warnings).
ANYWHERE = "anywhere"
EDGES = "edges"
# A statement's label: 郑重声明： 【免责声明】 版权声明 : 声明：
_STATEMENT_LABEL = rf"{OPEN}?\s*(?:郑重|免责|版权|特别|风险)?声明\s*(?:{CLOSE}\s*{COLON}?|{COLON})"

#: Blocks that are never article text, one row per kind: (pattern of the block's text, where).
#: The one table of boilerplate: the extractor drops the ``ANYWHERE`` kinds from the body it finds
#: (:data:`BOILERPLATE_BLOCK`), the body stage every kind (:data:`EDGE_BOILERPLATE` at the edges).
BOILERPLATE: tuple[tuple[str, str], ...] = (
    (rf"^{OPEN}?\s*{ORIGINAL_TITLE_LABEL}", ANYWHERE),
    (rf"^{_STATEMENT_LABEL}", ANYWHERE),
    # A statement's own words, whatever label it has, even none (East Money's: 东方财富发布此内容
    # 旨在传播更多信息，与本站立场无关，不构成投资建议).
    (r"^[^。！？!?]{0,20}(?:旨在传播更多信息|与本(?:站|网|平台)立场无关)", ANYWHERE),
    (r"^[（(]?\s*点击(?:查看|看)?(?:清晰)?大图\s*[)）]?$", ANYWHERE),
    # A link to report an error (新华网's 【纠错】) under the text.
    (rf"^{OPEN}?\s*纠错\s*{CLOSE}?$", ANYWHERE),
    (r"^(?:版权所有|copyright|©)", ANYWHERE),
    (r"^(?:分享到|扫一扫|长按(?:识别)?二维码|点击关注|扫码(?:关注|下载|阅读|订阅|添加))", ANYWHERE),
    # Follow hints: 关注东方财富网微信公众号… 更多精彩内容，请关注微信公众号“X” 微信扫码关注.
    (
        r"^(?:[^，。,]{0,10}[，,]\s*)?(?:欢迎|请|敬请)?(?:关注|搜索|添加)"
        r".{0,16}(?:微信公众号|公众号|微信号|官方微信|官方微博)",
        ANYWHERE,
    ),
    (r"^微信\s*(?:扫一扫|扫码|扫描|搜索)", ANYWHERE),
    (rf"^风险提示\s*{COLON}", EDGES),
    (r"^(?:本文|以上|本篇|文章)?(?:内容)?(?:由|系|为|来自).{0,12}(?:AI|人工智能|大模型)", EDGES),
    (r"^(?:本文|以上内容|本内容).{0,40}不构成(?:任何)?投资建议", EDGES),
    (
        r"^.{0,6}(?:扫一扫|扫描(?:下方|上方)?二维码|长按(?:识别)?二维码|分享到(?:微信|朋友圈)"
        r"|点击右上角)",
        EDGES,
    ),
)
#: The kinds removed wherever they stand.
BOILERPLATE_BLOCK = re.compile(
    "|".join(pattern for pattern, where in BOILERPLATE if where == ANYWHERE), re.I
)
#: Every kind: what a block at a body's edge may not be.
EDGE_BOILERPLATE = re.compile("|".join(pattern for pattern, _ in BOILERPLATE), re.I)
#: A block that is a statement's label alone: the statement itself is the block after it.
STATEMENT_LABEL_ONLY = re.compile(
    rf"^(?:{OPEN}?\s*(?:郑重|免责|版权|特别|风险)声明\s*{CLOSE}?\s*(?:{COLON})?|{_STATEMENT_LABEL})$"
)
#: Words one of the table's kinds holds, each: text without them needs no block-by-block look
#: (plain substrings: finding them is much cheaper than any pattern).
BOILERPLATE_WORDS: tuple[str, ...] = (
    "原标题", "声明", "传播更多信息", "立场无关", "大图", "版权所有", "copyright", "Copyright",
    "COPYRIGHT", "©", "分享到", "扫", "二维码", "点击关注", "公众号", "微信", "微博", "风险提示",
    "AI", "人工智能", "大模型", "投资建议", "右上角", "纠错",
)  # fmt: skip
