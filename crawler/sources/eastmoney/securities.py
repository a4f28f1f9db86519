"""The securities an East Money story is about: its ``secid`` values, their exchanges, and where
the site names them (the 7×24 ``stockList``, the stock links in bodies, per-security listings).

East Money names a security ``<market number>.<code>`` (``1.600519``, ``116.01211``, ``90.BK1036``;
its body links write ``1,600519`` in ``data-code``). :data:`MARKETS` maps the market numbers to
exchange codes, each row saying whether it is known (real captures in ``tests/fixtures``) or
assumed (other projects' code only); docs/eastmoney.md prints the table. A story is tagged only
from what the site marks up as a security, never from a number in its prose.

A stored security is ``{secid, code, market, name, via}``: ``market`` the exchange code (``None``
for a market number not in the table), ``name`` as the link or listing prints it (``None`` when
nothing named it), ``via`` the sorted list of where it was found (:data:`VIA`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import lxml.html
from lxml import etree

if TYPE_CHECKING:
    from collections.abc import Iterable

#: Where a security was found: the flash list's ``stockList``, a stock link in the body, a
#: per-security listing (``eastmoney_stock``).
VIA_FEED = "feed"
VIA_BODY = "body"
VIA_LISTING = "listing"
VIA: tuple[str, ...] = (VIA_FEED, VIA_BODY, VIA_LISTING)


@dataclass(frozen=True, slots=True)
class Market:
    """One East Money market number: the exchange code stored, the codes it lists, what is known.

    ``code`` is the pattern a code of the market must match (else the secid is malformed);
    ``beijing`` the code prefixes that put a market-0 code on the Beijing exchange;
    ``known`` is ``"known"`` (seen in real captures) or ``"assumed"`` (other projects' code).
    """

    exchange: str
    name: str
    code: re.Pattern[str]
    known: str
    evidence: str
    beijing: tuple[str, ...] = ()


_SIX_DIGITS = re.compile(r"\d{6}")
_TICKER = re.compile(r"[A-Z0-9][A-Z0-9_]{0,11}")
_CONTRACT = re.compile(r"[A-Za-z0-9]{1,12}")
_OTHERS = "other projects' code for East Money's quote API only"

#: Market number → exchange. Numbers not here are kept with ``market`` ``None`` and counted.
MARKETS: dict[str, Market] = {
    "0": Market(
        "SZ", "深圳证券交易所", _SIX_DIGITS, "known",
        "real body links 0.300343, 0.002670; Beijing codes assumed from other projects",
        beijing=("43", "83", "87", "92"),
    ),
    "1": Market("SH", "上海证券交易所", _SIX_DIGITS, "known", "real body links 1.600030, 1.600160"),
    "116": Market(
        "HK", "香港交易所", re.compile(r"\d{5}"), "assumed", "issue 21 cites 116.01211"
    ),
    "105": Market("NASDAQ", "纳斯达克", _TICKER, "assumed", _OTHERS),
    "106": Market("NYSE", "纽约证券交易所", _TICKER, "known", "real body link 106.NIO (NYSE: NIO)"),
    "107": Market("NYSEAM", "美国证券交易所", _TICKER, "assumed", _OTHERS),
    "90": Market("BK", "东方财富板块", re.compile(r"BK\d{4}"), "known", "real links 90.BK1036"),
    "100": Market("INDEX", "全球指数", _CONTRACT, "assumed", _OTHERS),
    "8": Market("CFFEX", "中国金融期货交易所", _CONTRACT, "assumed", _OTHERS),
    "113": Market("SHFE", "上海期货交易所", _CONTRACT, "assumed", _OTHERS),
    "114": Market("DCE", "大连商品交易所", _CONTRACT, "assumed", _OTHERS),
    "115": Market("CZCE", "郑州商品交易所", _CONTRACT, "assumed", _OTHERS),
    "142": Market("INE", "上海国际能源交易中心", _CONTRACT, "assumed", _OTHERS),
}  # fmt: skip
#: The exchange code of market-0 codes on the Beijing Stock Exchange.
BEIJING = "BJ"

# ``<market>.<code>`` (``data-code`` writes ``<market>,<code>``); anything else is malformed.
_SECID = re.compile(r"\s*(\d{1,3})\s*[.,]\s*([A-Za-z0-9_]{1,16})\s*")
# A quote link: ``quote.eastmoney.com/unify/r/<secid>`` (and its ``/unify/cr/`` form).
_UNIFY = re.compile(r"/unify/c?r/(\d{1,3}\.[A-Za-z0-9_]+)")
# Wrappers ``span#stock_<secid>`` / ``span#bk_<secid>`` around a stock link.
_WRAPPER_ID = re.compile(r"^(?:stock|bk)_(.+)$")
# Cheap test before parsing a body: none of these, no stock link.
_LINK_HINT = re.compile(r"data-code|em_stock_key_common|/unify/c?r/|id=[\"']?(?:stock|bk)_")
# Stock links of both page layouts and of ``GetNewsText`` bodies, in document order. Not those
# of the credit line: the site's linker turns the 证券 of ``（文章来源：上海证券报）`` into a board.
_LINKS = etree.XPath(
    "(//a[@data-code or contains(@href, '/unify/')]"
    " | //span[starts-with(@id, 'stock_') or starts-with(@id, 'bk_')]/a"
    " | //*[contains(@class, 'em_stock_key_common')])"
    "[not(ancestor::*[contains(@class, 'em_media')])]"
)
_FRAGMENT_PARSER = lxml.html.HTMLParser(remove_comments=True, encoding=None)


@dataclass(frozen=True, slots=True)
class Security:
    """A security as East Money names it: ``secid``, its parts, its exchange, its printed name."""

    secid: str
    code: str
    market: str | None
    name: str | None = None

    def tagged(self, via: str) -> dict[str, Any]:
        """Return the stored form: ``{secid, code, market, name, via: [via]}``."""
        return {
            "secid": self.secid,
            "code": self.code,
            "market": self.market,
            "name": self.name,
            "via": [via],
        }


def exchange(market_number: str, code: str) -> str | None:
    """Return the exchange code of a market number and code (``None``: an unknown market)."""
    market = MARKETS.get(market_number)
    if market is None:
        return None
    if market.beijing and code.startswith(market.beijing):
        return BEIJING
    return market.exchange


def parse_secid(value: object, name: str | None = None) -> Security | None:
    """Return the security a ``secid`` (``1.600519``; ``1,600519`` as ``data-code`` writes it)
    names, ``None`` when the value is malformed: not ``<number>.<code>``, or a code the market
    does not list (``1.60051``, ``90.600519``)."""
    if not isinstance(value, str | int):
        return None
    match = _SECID.fullmatch(str(value))
    if match is None:
        return None
    number, code = str(int(match.group(1))), match.group(2)
    market = MARKETS.get(number)
    if market is not None and not market.code.fullmatch(code):
        return None
    name = " ".join(name.split()) if name else None
    return Security(f"{number}.{code}", code, exchange(number, code), name or None)


def stock_list(values: object) -> tuple[list[Security], list[str]]:
    """Read a 7×24 item's ``stockList``: its securities in order (each once), and the values
    that are malformed (``repr`` each, for the count and the log)."""
    if values is None or values == "":
        return [], []
    if not isinstance(values, list):
        return [], [repr(values)[:60]]
    found: dict[str, Security] = {}
    malformed = []
    for value in values:
        security = parse_secid(value)
        if security is None:
            malformed.append(repr(value)[:60])
        else:
            found.setdefault(security.secid, security)
    return list(found.values()), malformed


def _link_secids(element: etree._Element) -> list[str]:
    """Return what may name a stock link's security, best first: its ``data-code``, its quote
    URL, the id of the ``span#stock_…`` wrapping it. (A K-line image link's ``data-code`` is
    ``NIO|106|7``: its URL names the security.)"""
    found = []
    data_code = element.get("data-code")
    if data_code:
        found.append(data_code)
    match = _UNIFY.search(element.get("href") or "")
    if match:
        found.append(match.group(1))
    parent = element.getparent()
    wrapper = _WRAPPER_ID.match(parent.get("id") or "") if parent is not None else None
    if wrapper:
        found.append(wrapper.group(1))
    return found


def body_links(body_html: str | None) -> tuple[list[Security], list[str]]:
    """Read the stock links of a raw body (before the body stage unwraps them): its securities
    in order (each once, named by its first link with text), and the malformed ``data-code`` /
    URL values. ``span#stock_1.600519 > a.keytip[data-code]``, ``*.em_stock_key_common``,
    ``a[href*=/unify/r/1.600519]``."""
    if not body_html or not _LINK_HINT.search(body_html):
        return [], []
    root = lxml.html.document_fromstring(f"<html><body>{body_html}</body></html>", _FRAGMENT_PARSER)
    found: dict[str, Security] = {}
    malformed = []
    links = _LINKS(root)
    for element in links if isinstance(links, list) else []:
        if not isinstance(element, etree._Element):
            continue
        candidates = _link_secids(element)
        if not candidates:
            continue  # a topic link (a.infokey to a search page), not a security
        name = etree.tostring(element, method="text", encoding="unicode", with_tail=False)
        parsed = (parse_secid(candidate, name) for candidate in candidates)
        security = next((each for each in parsed if each is not None), None)
        if security is None:
            malformed.append(repr(candidates[0])[:60])
            continue
        known = found.get(security.secid)
        if known is None or (known.name is None and security.name):
            found[security.secid] = security
    return list(found.values()), malformed


def tag(securities: Iterable[Security], via: str) -> list[dict[str, Any]]:
    """Return the stored form of ``securities`` found ``via`` one place."""
    return [security.tagged(via) for security in securities]


def markets_markdown() -> str:
    """Return :data:`MARKETS` as the Markdown table docs/eastmoney.md prints (a test keeps the
    page equal to it)."""
    lines = [
        "| market number | `market` stored | exchange | code pattern | status | evidence |",
        "|---|---|---|---|---|---|",
    ]
    for number, market in MARKETS.items():
        stored = f"`{market.exchange}`"
        if market.beijing:
            stored += f"; `{BEIJING}` for codes starting {', '.join(market.beijing)}"
        lines.append(
            f"| `{number}` | {stored} | {market.name} | `{market.code.pattern}` | {market.known} "
            f"| {market.evidence} |"
        )
    return "\n".join(lines) + "\n"
