from __future__ import annotations

import time

import pytest

from crawler.normalize.body import html_to_text, sanitize_body
from crawler.sources.eastmoney.cleaning import BODY_RULES as EASTMONEY
from crawler.vocabulary import ANYWHERE, BOILERPLATE, BOILERPLATE_BLOCK, HIDDEN_TEXT_LIMIT
from tests.conftest import FIXTURES

BASE = "https://finance.eastmoney.com/a/202601093612345678.html"


def clean(raw: str) -> str:
    """The generic rules: what every source's bodies get."""
    return sanitize_body(raw, BASE)


def clean_eastmoney(raw: str) -> str:
    """The generic rules and East Money's."""
    return sanitize_body(raw, BASE, EASTMONEY)


@pytest.mark.parametrize(
    ("raw", "gone"),
    [
        ("<p>正文</p><script>alert(1)</script>", "alert"),
        ("<p>正文</p><style>p{color:red}</style>", "color"),
        ('<p>正文</p><iframe src="https://evil.example/"></iframe>', "evil"),
        ('<p onclick="steal()">正文</p>', "steal"),
        ('<p><a href="javascript:steal()">正文</a></p>', "javascript"),
        ('<p><a href="JaVaScRiPt:steal()">正文</a></p>', "steal"),
        ('<p><img src="x.png" onerror="steal()">正文</p>', "steal"),
        ("<p>正文</p><form action='/x'><input name='q'>提交</form>", "提交"),
        ('<p>正文</p><p style="display:none;height:1px;overflow:hidden;">隐藏</p>', "隐藏"),
        ('<p>正文</p><p style="display: none">隐藏</p>', "隐藏"),
        ("<p>正文</p><p hidden>隐藏</p>", "隐藏"),
        (
            "<p>正文</p><p>郑重声明：东方财富发布此内容旨在传播更多信息，与本站立场无关，不构成投资建议。</p>",
            "郑重声明",
        ),
        ("<p>正文</p><p>本文内容由AI生成，仅供参考。</p>", "AI"),
        ("<p>正文</p><p>微信扫一扫，分享到朋友圈</p>", "扫一扫"),
        ("<p>正文</p><!-- 注释 -->", "注释"),
        ("<object data='x.swf'>flash</object><p>正文</p>", "flash"),
        ("<svg><script>alert(1)</script></svg><p>正文</p>", "alert"),
        ('<p>正文</p><p style="Visibility :\tHidden">隐藏</p>', "隐藏"),
        ('<p>正文</p><div aria-hidden="true">读屏隐藏</div>', "读屏隐藏"),
    ],
)
def test_hostile_and_noise_markup_is_removed(raw: str, gone: str) -> None:
    body = clean(raw)
    assert gone not in body
    assert "正文" in body


EASTMONEY_FURNITURE = [
    ('<p>正文</p><div class="ad_context3">广告位</div>', "广告位"),
    ('<p>正文<img class="em_handle_adv_close" src="close.png"></p>', "close.png"),
    ('<p>正文</p><a class="toplink" href="#top">返回顶部</a>', "返回顶部"),
    ('<p>正文</p><p><a href="https://acttg.eastmoney.com/pub/x">点击开户</a></p>', "开户"),
    ("<p>正文</p><p>在东方财富看资讯行情，选东方财富证券一站式开户交易&gt;&gt;</p>", "开户"),
    (
        "<p>正文</p><!-- EM_StockImg_Start --><p><a href='http://quote.eastmoney.com/unify/r/106.NIO'>"
        "<img src='https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid=106.NIO'></a></p>"
        "<!-- EM_StockImg_End --><p>后文</p>",
        "webquoteklinepic",
    ),
    ('<p>正文<span id="quote_1.600030"></span></p>', "quote_"),
    ('<p>正文<span id="bkquote_90.BK0963"></span></p>', "bkquote_"),
    ('<p>正文</p><div class="side  ad_context3\nwide">广告位</div>', "广告位"),
]


@pytest.mark.parametrize(("raw", "gone"), EASTMONEY_FURNITURE)
def test_eastmoney_furniture_is_removed_by_its_rules(raw: str, gone: str) -> None:
    body = clean_eastmoney(raw)
    assert gone not in body
    assert "正文" in body


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ('<p>正文</p><div class="ad_context3">侧栏</div>', "正文\n侧栏"),
        ('<p>正文</p><p><a class="toplink" href="#top">回到开头</a></p>', "正文\n回到开头"),
        ("<p>正文</p><p>在东方财富看资讯行情</p>", "正文\n在东方财富看资讯行情"),
        (
            '<p><a class="keytip" href="http://quote.eastmoney.com/unify/r/1.600030">中信</a></p>',
            "中信",
        ),
    ],
)
def test_generic_rules_know_no_source(raw: str, text: str) -> None:
    # Another site's classes may be called toplink or ad_context3: only East Money's rules say
    # what they are on East Money's pages.
    body = clean(raw)
    assert html_to_text(body) == text
    assert body != clean_eastmoney(raw)


@pytest.mark.parametrize(
    "raw",
    [
        '<p>正文</p><div style="display:none">{}</div>',
        "<p>正文</p><div hidden><p>{}</p></div>",
        '<p>正文</p><section aria-hidden="true">{}</section>',
    ],
)
def test_hidden_text_goes_unless_it_is_an_article(raw: str) -> None:
    # One policy with the extractor: a hidden element holding an article's worth of text is the
    # article revealed by script; a short one is a tooltip, a placeholder, a trap.
    short = "隐" * HIDDEN_TEXT_LIMIT
    long = "文" * (HIDDEN_TEXT_LIMIT + 1)
    assert short not in clean(raw.format(short))
    assert long in html_to_text(clean(raw.format(long)))


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ('<p>正文</p><div aria-hidden="false">可见</div>', "可见"),
        ('<p>正文</p><p style="display:block">可见</p>', "可见"),
        ('<p>正文</p><div class="ad_context30">不是广告位</div>', "不是广告位"),
        ('<p>正文<span id="xquote_1">可见</span></p>', "可见"),
        ('<p>正文<a class="em_handle_adv_close" href="https://example.com/x">可见</a></p>', "可见"),
    ],
)
def test_look_alike_markup_is_kept(raw: str, kept: str) -> None:
    assert kept in clean_eastmoney(raw)


def test_topic_and_quote_links_keep_their_text_only() -> None:
    raw = (
        '<p><a class="infokey" href="https://so.eastmoney.com/x">数字经济</a>板块走强，'
        '<a href="http://quote.eastmoney.com/unify/r/1.600030">中信证券</a>'
        '<span class="em_stock_key_common">中国平安</span>上涨</p>'
    )
    assert clean_eastmoney(raw) == "<p>数字经济板块走强，中信证券中国平安上涨</p>"


@pytest.mark.parametrize(
    "raw",
    [
        # News about AI labelling, investor warnings: the words of disclaimers, in the text.
        "<p>网信办：AI生成内容须添加显式标识，9月1日起施行。</p>",
        "<p>首段。</p><p>证监会提醒，投资者据此操作的，损失风险自负。</p><p>中段。</p><p>末段。</p><p>结尾。</p>",
        "<p>首段。</p><p>次段。</p><p>办法要求，AI生成合成内容应当添加标识。</p><p>中段。</p><p>末段。</p><p>结尾。</p>",
    ],
)
def test_ordinary_text_with_disclaimer_words_stays(raw: str) -> None:
    assert html_to_text(clean(raw)) == html_to_text(raw)


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("<p>正文第一段\x0b内容</p><p>第二\x08段\x00</p>", "正文第一段内容\n第二段"),
        ("正文\ud83d，截断", "正文，截断"),
        ("<p>正文</p><xmp>原样<b>x</b></xmp><p>后文</p>", "正文\n原样x\n后文"),
        ("<p>正文</p><plaintext>x", "正文\nx"),
        ('<p>正文</p><p style="DISPLAY: NONE">隐藏</p>', "正文"),
        ("<p>正&#1;文&#x41;&#0;&#99999999999;</p>", "正文A"),
        ("<p>正文&#" + "1" * 5000 + ";</p>", "正文"),
        ("<p>正文&#x" + "f" * 50 + ";&#00000065;&#1a</p>", "正文Aa"),
        (
            "<p>甲</p><noembed><p>乙<b>丙</b></p></noembed><noframes>戊</noframes><p>丁</p>",
            "甲\n丁",
        ),
        ("<div>散落的文字<p>段落</p></div>", "散落的文字\n段落"),
    ],
)
def test_control_characters_and_legacy_markup(raw: str, text: str) -> None:
    assert html_to_text(clean(raw)) == text


def test_sanitising_twice_changes_nothing() -> None:
    for raw in (
        "郑重声明：本文不构成投资建议",
        "正文。<br>郑重声明：以上内容仅供参考",
        "<p>a</p>b<p>c</p>",
    ):
        once = clean(raw)
        assert clean(once) == once


def test_stock_links_keep_their_text_only() -> None:
    raw = (
        '<p>　　<span id="stock_1.600030"><a target="_blank" href="http://quote.eastmoney.com/unify/r/1.600030"'
        ' class="keytip" data-code="1,600030">中信证券</a></span><span id="quote_1.600030"></span>表示，'
        '<span web="1" href="http://quote.eastmoney.com/unify/r/90.BK0963" class="em_stock_key_common"'
        ' data-code="90,BK0963">商业航天</span>值得关注。</p>'
    )
    assert clean_eastmoney(raw) == "<p>中信证券表示，商业航天值得关注。</p>"


def test_allow_list_and_absolute_urls() -> None:
    raw = (
        '<h1 class="x">大标题</h1><div style="color:red" id="a"><p>段落<a href="/a/1.html" target="_blank"'
        ' title="t">链接</a></p><img src="//img.example.cn/1.jpg" alt="图" width="5"></div>'
        '<table border="1"><tr><td colspan="2" class="c">单元</td></tr></table>'
        '<font color="red">字</font><img data-src="/lazy.jpg" src="data:image/gif;base64,R0l">'
        '<img data-original="lazy2.jpg" alt="无src">'
    )
    body = clean(raw)
    assert "<h2>大标题</h2>" in body
    assert '<a href="https://finance.eastmoney.com/a/1.html">链接</a>' in body
    assert '<img src="https://img.example.cn/1.jpg" alt="图">' in body
    assert '<td colspan="2">单元</td>' in body
    assert '<img src="https://finance.eastmoney.com/lazy.jpg">' in body
    assert '<img alt="无src" src="https://finance.eastmoney.com/a/lazy2.jpg">' in body
    for attribute in ("style", "class", "target", "title", "width", "color", "border", "id="):
        assert attribute not in body


def test_indentation_and_empty_paragraphs() -> None:
    body = clean("<p>　　第一段</p><p>　　</p><p>&nbsp;</p><p><br></p><p>\u3000\u3000第二段</p>")
    assert body == "<p>第一段</p><p>第二段</p>"


def test_divs_become_paragraphs_and_text_keeps_them_apart() -> None:
    body = clean(
        "<div><div>第一段</div><div>第二段<br>同段第二行</div></div><center>第三段</center>"
    )
    assert html_to_text(body) == "第一段\n第二段\n同段第二行\n第三段"


@pytest.mark.parametrize("raw", ["", "   ", None, "<p></p>", "<script>x</script>", "<!-- -->"])
def test_empty_bodies(raw: str | None) -> None:
    assert sanitize_body(raw) == ""
    assert html_to_text(sanitize_body(raw)) == ""


def test_body_of_only_images_has_no_text() -> None:
    body = clean('<p><img src="/1.jpg"></p><center><img src="/2.jpg"></center>')
    assert body.count("<img") == 2
    assert html_to_text(body) == ""


def test_broken_html_does_not_crash() -> None:
    body = clean("<p>未闭合<b>加粗<p>下一段</i></div></table>&#xZZ;<<>>")
    text = html_to_text(body)
    assert "未闭合" in text
    assert "下一段" in text


@pytest.mark.parametrize(
    ("raw", "html"),
    [
        # A stray "</body><body>" makes libxml2 open a second body: its content is kept.
        ("<p>甲</p></body><body><p>乙</p>", "<p>甲</p><p>乙</p>"),
        ("甲</body><body>乙<p>丙</p></body><body>丁", "<p>甲乙</p><p>丙</p><p>丁</p>"),
        # A whole document: its body is the article, the head is not.
        (
            "<!DOCTYPE html><html><head><title>标题</title></head><body><p>正文</p></body></html>",
            "<p>正文</p>",
        ),
        ("<!doctype html><script>x()</script>", ""),
    ],
)
def test_stray_and_whole_document_markup(raw: str, html: str) -> None:
    assert sanitize_body(raw) == html


def test_five_megabyte_body_is_linear() -> None:
    paragraph = "<p>　　" + "市场监管" * 50 + '<span class="em_stock_key_common">股票</span></p>'
    raw = paragraph * (5_000_000 // len(paragraph.encode()))
    assert len(raw.encode()) > 4_900_000
    started = time.perf_counter()
    body = clean_eastmoney(raw)
    text = html_to_text(body)
    elapsed = time.perf_counter() - started
    assert text.count("\n") + 1 == raw.count("<p>")
    # Generous bound: catches quadratic behaviour (minutes), not machine speed.
    assert elapsed < 30


def test_real_eastmoney_content_body() -> None:
    raw = (FIXTURES / "bodies" / "eastmoney_ContentBody_fragment_2026-01.html").read_text()
    body = clean_eastmoney(raw)
    text = html_to_text(body)
    lines = text.split("\n")
    assert (
        lines[0]
        == "沪指本周累计涨0.13%，深证成指跌0.58%，创业板指跌1.25%。A股后市怎么走？看看机构怎么说："
    )
    assert lines[1] == "①中信证券：开年后市场震荡向上的概率更高"
    assert lines[-1] == "（文章来源：第一财经）"
    assert len(lines) == 12
    for gone in ("quote.eastmoney.com", "keytip", "　", "<span", "data-code", "ContentBody"):
        assert gone not in body
    assert "<strong>①中信证券：开年后市场震荡向上的概率更高</strong>" in body


def test_real_rolling_news_body_with_every_kind_of_noise() -> None:
    post = (FIXTURES / "bodies" / "finews_posts_-202205262391921712.md").read_text()
    raw = post.split("---", 2)[2].split("\n\n", 2)[1]
    body = clean_eastmoney(raw)
    text = html_to_text(body)
    assert text.startswith("国内首款使用超低GWP(全球变暖潜值)制冷剂的新能源汽车来了！")
    assert text.endswith("（文章来源：上海证券报）")
    assert "图片来源：霍尼韦尔官网" in text
    assert "webquoteklinepic" not in body
    assert "K图" not in body
    assert body.count("<img") == 3
    assert "《<蒙特利尔议定书>基加利修正案》" in text


# East Money's statement under its articles (sources.md §3), and follow hints.
STATEMENT = "郑重声明：东方财富发布此内容旨在传播更多信息，与本站立场无关，不构成投资建议。据此操作，风险自担。"
ARTICLE = "".join(f"<p>第{n}段正文，讲述了一件事情。</p>" for n in range(1, 7))


@pytest.mark.parametrize(
    "raw",
    [
        ARTICLE + f"<p>{STATEMENT}</p>",  # the last paragraph
        ARTICLE + f'<div class="b-review"><div><p>{STATEMENT}</p></div></div>',  # inside divs
        ARTICLE + f"<div>{STATEMENT}</div>",
        f"<div>{ARTICLE}<p>{STATEMENT}</p></div>",
        ARTICLE + "<p><span>郑重</span><span>声明</span>：东方财富发布此内容旨在传播更多信息。</p>",
        ARTICLE + "<p><strong>郑重声明：</strong>本文不构成投资建议。</p>",
        ARTICLE + "<p>【郑重声明】东方财富发布此内容旨在传播更多信息，与本站立场无关。</p>",
        ARTICLE + "<p>郑重声明 : 本文仅代表作者个人观点。</p>",
        # Split over paragraphs: the label alone, then the statement.
        ARTICLE + "<p><b>郑重声明：</b></p><p>本文仅代表作者个人观点，与本站无关。</p>",
        ARTICLE + "<p><b>郑重声明</b></p><p>本文仅代表作者个人观点。</p>",
        # The statement without its label.
        ARTICLE + "<p>东方财富发布此内容旨在传播更多信息，与本站立场无关。</p>",
        # Not at the edges: more blocks follow it.
        ARTICLE + f"<p>{STATEMENT}</p>" + ARTICLE,
        # Followed by empty and image-only paragraphs, which are no text.
        ARTICLE + f"<p>{STATEMENT}</p><p>　　</p><p><img src='/k.png'></p><p><br></p>",
    ],
)
def test_statement_is_removed_wherever_it_stands(raw: str) -> None:
    text = html_to_text(clean_eastmoney(raw))
    assert "声明" not in text
    assert "传播更多信息" not in text
    assert "第1段正文" in text
    assert "第6段正文" in text


@pytest.mark.parametrize(
    "hint",
    [
        "关注东方财富网微信公众号，获取更多资讯",
        "更多精彩内容，请关注微信公众号“东方财富网”",
        "（本文来自东方财富网，欢迎关注东方财富网微信公众号：eastmoneynews）",
        "欢迎关注我们的官方微信",
        "微信扫码关注东方财富网",
        "扫码关注东方财富网，随时掌握市场动态",
    ],
)
@pytest.mark.parametrize("where", ["last", "middle", "div"])
def test_follow_hints_are_removed_wherever_they_stand(hint: str, where: str) -> None:
    raw = {
        "last": ARTICLE + f"<p>{hint}</p>",
        "middle": ARTICLE + f"<p>{hint}</p>" + ARTICLE,
        "div": ARTICLE + f"<div><p>{hint}</p></div>",
    }[where]
    text = html_to_text(clean_eastmoney(raw))
    assert hint not in text
    assert text.startswith("第1段正文")


def test_boilerplate_lines_after_a_break_leave_the_paragraph() -> None:
    raw = f"<p>第一段。</p><p>最后一段。<br>{STATEMENT}<br>据此操作，风险自担。</p>"
    assert clean_eastmoney(raw) == "<p>第一段。</p><p>最后一段。</p>"
    hint = "<p>甲<br>乙<!-- 注 --><br>关注东方财富网微信公众号</p>"
    assert clean_eastmoney(hint) == "<p>甲<br>乙</p>"


@pytest.mark.parametrize(
    "raw",
    [
        # A public-service line and ordinary sentences holding the hints' words.
        "<p>消费者可关注“12315”微信公众号查询投诉进度。</p>" + ARTICLE,
        "<p>值得关注的是，扫码支付已经普及。</p>" + ARTICLE,
        ARTICLE + "<p>扫码支付已覆盖全市公交线路。</p>" + ARTICLE,
        # A statement in the news, not under it.
        ARTICLE + "<p>公司发布声明称，相关传闻不实。</p>" + ARTICLE,
    ],
)
def test_text_with_the_words_of_hints_stays(raw: str) -> None:
    assert html_to_text(clean_eastmoney(raw)) == html_to_text(raw)


def test_real_rolling_body_with_east_money_statement_and_hint() -> None:
    # Faithfully reconstructed: the real GetNewsText body of the 2022-05-26 rolling post, then the
    # statement and follow hint East Money pages carry under a body (sources.md §3), in a div.
    post = (FIXTURES / "bodies" / "finews_posts_-202205262391921712.md").read_text()
    raw = post.split("---", 2)[2].split("\n\n", 2)[1]
    tail = f'<div class="em_bottom"><p>{STATEMENT}</p><p>关注东方财富网微信公众号</p></div>'
    text = html_to_text(clean_eastmoney(raw + tail))
    assert text == html_to_text(clean_eastmoney(raw))
    assert text.endswith("（文章来源：上海证券报）")


def test_one_boilerplate_table_for_the_extractor_and_the_body_stage() -> None:
    # What the extractor drops wherever it stands, the body stage drops wherever it stands too.
    for pattern, where in BOILERPLATE:
        assert (where == ANYWHERE) == (pattern in BOILERPLATE_BLOCK.pattern)
    for kind in ("原标题：旧题", "版权所有 东方财富", "分享到：", "郑重声明：本文仅供参考"):
        assert BOILERPLATE_BLOCK.search(kind)
        assert kind.split("：")[0] not in html_to_text(clean(ARTICLE + f"<p>{kind}</p>" + ARTICLE))
