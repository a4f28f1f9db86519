"""East Money's cleaning knowledge, as data: its body furniture, its names, its hosts.

``../shared/sources.md`` §3 lists the noise inside the site's bodies. The generic stages know no
source; :mod:`crawler.sources.rules` hands them these rules (the body rules for East Money's items
and pages, the names for every item: a name means the same wherever it is printed).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from crawler.normalize.body import BodyRules

if TYPE_CHECKING:
    from collections.abc import Mapping

# Hosts of the site's pages (finance., stock., fund., futures. …): a URL on one or under one.
HOSTS: tuple[str, ...] = ("eastmoney.com",)
# The name East Money publishes under: its own desk, the publisher of every item of its feeds
# and pages that credits no outlet (docs/eastmoney.md, "Publishers"). Its other names belong to
# its group.
PUBLISHER = "东方财富网"
PUBLISHER_GROUPS: dict[str, str] = {"东方财富": PUBLISHER, "东方财富研究中心": PUBLISHER}
# Site names its pages append to their <title> (its fund site and its forum too).
SITE_NAMES: tuple[str, ...] = ("东方财富网", "东方财富", "天天基金网", "股吧")

# Short blocks that are East Money's promotions, wherever they stand.
PROMOTION_TEXT = re.compile(r"在东方财富看资讯行情|选东方财富证券|东方财富.{0,12}开户")
# K-line image blocks stand between these comments.
STOCK_IMAGE_MARKERS = ("EM_StockImg_Start", "EM_StockImg_End")
_CLASS_SEPARATOR = re.compile(r"[ \t\n\r]+")


def is_furniture(tag: str, attributes: Mapping[str, str]) -> bool:
    """Tell whether an element is East Money furniture: ad close buttons, back-to-top links,
    ad slots, account-opening links, the empty quote placeholders after stock names."""
    css = attributes.get("class", "")
    if tag == "img" and "em_handle_adv_close" in css:
        return True
    if tag == "a" and ("toplink" in css or "acttg.eastmoney.com" in attributes.get("href", "")):
        return True
    if tag == "span" and attributes.get("id", "").startswith(("quote_", "bkquote_")):
        return True
    return "ad_context3" in css and "ad_context3" in _CLASS_SEPARATOR.split(css)


def is_stock_link(tag: str, attributes: Mapping[str, str]) -> bool:
    """Tell whether an element is a stock or topic link, kept as its text."""
    css = attributes.get("class", "")
    if "em_stock_key_common" in css:
        return True
    if tag != "a":
        return False
    return (
        "keytip" in css
        or "infokey" in css
        or "quote.eastmoney.com/unify" in attributes.get("href", "")
    )


BODY_RULES = BodyRules(
    drop=is_furniture,
    unwrap=is_stock_link,
    promotion=PROMOTION_TEXT,
    marked_blocks=(STOCK_IMAGE_MARKERS,),
)
