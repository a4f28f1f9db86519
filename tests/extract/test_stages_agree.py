"""The extractor and the normalisation stages read a page by the same conventions (the vocabulary).

Each test extracts a realistic page and passes it through the chain, as the ``site`` spider and
``scrapy extract`` do: what the extractor keeps, the stages must not throw away, and a credit line
the extractor reads, the stages must read too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from crawler.extract import extract_article
from crawler.items import Article

if TYPE_CHECKING:
    from pipelines.chain import PipelineChain

FETCHED = datetime(2024, 3, 6, 2, 0, tzinfo=UTC)
URL = "https://www.example.com.cn/news/2024/0305/1234.html"

PARAGRAPHS = [
    "新华社北京3月5日电 国务院总理在政府工作报告中提出，今年发展主要预期目标是：国内生产总值增长"
    "5%左右；城镇新增就业1200万人以上，城镇调查失业率5.5%左右；居民消费价格涨幅3%左右；居民收入"
    "增长和经济增长同步；国际收支保持基本平衡；粮食产量1.3万亿斤以上；单位国内生产总值能耗降低"
    "2.5%左右，生态环境质量持续改善。",
    "报告指出，提出上述预期目标，综合考虑了国内外形势和各方面因素，兼顾了需要和可能。经济增长预期"
    "目标为5%左右，考虑了促进就业增收、防范化解风险等需要，并与“十四五”规划和基本实现现代化的目标"
    "相衔接，也考虑了经济增长潜力和支撑条件，体现了积极进取、奋发有为的要求。",
    "报告提出，要大力推进现代化产业体系建设，加快发展新质生产力。充分发挥创新主导作用，以科技创新"
    "推动产业创新，加快推进新型工业化，提高全要素生产率，不断塑造发展新动能新优势，促进社会生产力"
    "实现新的跃升。推动产业链供应链优化升级，积极培育新兴产业和未来产业，深入推进数字经济创新发展。",
    "报告强调，要深入实施科教兴国战略，强化高质量发展的基础支撑。坚持教育强国、科技强国、人才强国"
    "建设一体统筹推进，创新链产业链资金链人才链一体部署实施，深化教育科技人才综合改革，为现代化建设"
    "提供强大动力。加快推动高水平科技自立自强，充分发挥新型举国体制优势，全面提升自主创新能力。",
    "报告还提出，要着力扩大国内需求，推动经济实现良性循环。促进消费稳定增长，从增加收入、优化供给、"
    "减少限制性措施等方面综合施策，激发消费潜能。培育壮大新型消费，实施数字消费、绿色消费、健康消费"
    "促进政策，积极培育智能家居、文娱旅游、体育赛事、国货“潮品”等新的消费增长点。",
    "报告要求，要坚定不移深化改革，增强发展内生动力。扎实推进国有企业改革深化提升行动，实施国有经济"
    "布局优化和结构调整指引，加快建设更多世界一流企业。落实促进民营经济发展壮大的意见和配套举措，"
    "进一步解决市场准入、要素获取、公平执法、权益保护等方面存在的突出问题。",
]


def page(body: str, byline: str = "2024-03-05 10:20") -> bytes:
    """A news page: navigation, headline, byline, the given article container, a footer."""
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8">
<title>政府工作报告提出今年发展主要预期目标_示例新闻网</title>
<script>window.onload = function () {{ reveal("article"); }};</script>
</head><body>
<div class="nav"><a href="/">首页</a> | <a href="/news/">新闻</a> | <a href="/finance/">财经</a></div>
<div class="main">
<h1>政府工作报告提出今年发展主要预期目标</h1>
<div class="info">{byline}</div>
{body}
</div>
<div class="footer">版权所有 示例新闻网 京ICP备00000000号</div>
</body></html>""".encode()


def through_the_chain(chain: PipelineChain, html: bytes) -> Article:
    """Extract a page and normalise it as the ``site`` spider does (validate drops no body)."""
    extracted = extract_article(html, url=URL)
    item: Article = chain.process(
        Article(
            url=URL,
            source="site",
            fetched_at=FETCHED,
            title=extracted.title,
            published_text=extracted.publish_time,
            publisher=extracted.publisher,
            authors=list(extracted.authors),
            body_html=extracted.body_html,
        )
    )
    return item


def test_article_in_a_hidden_container_survives_the_chain(chain: PipelineChain) -> None:
    # Bug B: the extractor kept the container (an article revealed by script is the article),
    # the body stage dropped every hidden element, and validate dropped the page as empty_body.
    paragraphs = "".join(f"<p>{text}</p>" for text in PARAGRAPHS)
    html = page(f'<div id="article" class="content" style="display: none;">{paragraphs}</div>')
    extracted = extract_article(html, url=URL)
    assert extracted.body_html is not None
    assert "国内生产总值增长5%左右" in extracted.body_html
    item = through_the_chain(chain, html)
    assert (item.body_text or "").split("\n") == PARAGRAPHS


def test_short_hidden_elements_go_in_both(chain: PipelineChain) -> None:
    paragraphs = "".join(f"<p>{text}</p>" for text in PARAGRAPHS)
    tooltip = '<span style="display:none">点击查看大图</span>'
    html = page(f'<div id="article">{paragraphs[:-4]}{tooltip}</p></div>')
    assert "点击查看大图" not in (extract_article(html, url=URL).body_html or "")
    item = through_the_chain(chain, html)
    assert "点击查看大图" not in (item.body_text or "")
    assert (item.body_text or "").split("\n") == PARAGRAPHS


def test_bracketed_source_line_leaves_the_body(chain: PipelineChain) -> None:
    # Bug A: the extractor read 【来源：新华社】 as the source; the attribution stage did not
    # know the bracket, so the line stayed in body_text.
    paragraphs = "".join(f"<p>{text}</p>" for text in PARAGRAPHS)
    html = page(f'<div id="article">{paragraphs}<p>【来源：新华社】</p></div>')
    assert extract_article(html, url=URL).publisher == "新华社"
    item = through_the_chain(chain, html)
    assert item.publisher == "新华社"
    assert (item.body_text or "").split("\n") == PARAGRAPHS


def test_bracketed_source_line_is_the_publisher_when_no_field_names_one(
    chain: PipelineChain,
) -> None:
    item: Article = chain.process(
        Article(
            url=URL,
            source="site",
            fetched_at=FETCHED,
            title="政府工作报告提出今年发展主要预期目标",
            published_text="2024-03-05 10:20",
            body_html=f"<p>{PARAGRAPHS[0]}</p><p>【来源：新华社】</p>",
        )
    )
    assert item.publisher == "新华社"
    assert item.body_text == PARAGRAPHS[0]
