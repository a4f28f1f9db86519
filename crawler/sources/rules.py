"""What sources hand the normalisation stages beyond the generic rules, and which apply to an item.

A source keeps its cleaning knowledge in ``crawler/sources/<site>/cleaning.py``; this registry
gathers it for the stages. Two kinds of knowledge apply differently:

- Names (the site names its pages append to titles, the group its outlets' names belong to)
  mean the same wherever they are printed: every source's names apply to every item (an East
  Money headline quoted by another site still ends in ``_东方财富网``).
- Markup rules (:class:`~crawler.normalize.body.BodyRules`: furniture, promotions, marked blocks)
  describe a site's own pages: they apply to an item of that source (its ``source`` key), or to
  one fetched from the source's hosts, so an East Money page read by the generic ``site`` spider
  or by ``scrapy extract`` is cleaned as the ``eastmoney`` spider's items are. Any other item gets
  the generic rules only. So does the name the source publishes under (its own desk): an item
  of the source, or from its hosts, that credits no one is the source's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from crawler.normalize.body import NO_RULES, BodyRules
from crawler.normalize.credits import PUBLISHER_GROUPS as GENERAL_PUBLISHER_GROUPS
from crawler.normalize.title import SITE_SUFFIXES, site_suffix_pattern
from crawler.sources import eastmoney
from crawler.sources.eastmoney import cleaning as eastmoney_cleaning


@dataclass(frozen=True)
class SourceCleaning:
    """One source's cleaning knowledge: its key, hosts, names and body rules.

    ``publisher`` is the name it publishes under: the publisher of its items that credit no one.
    ``publisher_groups`` maps the names its outlets go by to their group.
    """

    source: str
    hosts: tuple[str, ...]
    publisher: str
    publisher_groups: dict[str, str]
    site_names: tuple[str, ...]
    body: BodyRules

    def serves(self, host: str) -> bool:
        """Tell whether ``host`` (lower case) is one of the source's hosts or under one."""
        return any(host == known or host.endswith("." + known) for known in self.hosts)


CLEANINGS: tuple[SourceCleaning, ...] = (
    SourceCleaning(
        source=eastmoney.SOURCE,
        hosts=eastmoney_cleaning.HOSTS,
        publisher=eastmoney_cleaning.PUBLISHER,
        publisher_groups=eastmoney_cleaning.PUBLISHER_GROUPS,
        site_names=eastmoney_cleaning.SITE_NAMES,
        body=eastmoney_cleaning.BODY_RULES,
    ),
)
_BY_SOURCE = {cleaning.source: cleaning for cleaning in CLEANINGS}

#: Every name an outlet goes by → the group it belongs to (general, then each source's).
PUBLISHER_GROUPS: dict[str, str] = GENERAL_PUBLISHER_GROUPS | {
    name: group for cleaning in CLEANINGS for name, group in cleaning.publisher_groups.items()
}
#: The aggregator a ``via`` key stands for: when it is also the publisher, ``via`` is dropped.
AGGREGATOR_NAMES: dict[str, str] = {cleaning.source: cleaning.publisher for cleaning in CLEANINGS}
#: Site names cut off the end of titles: every source's and the general ones.
SITE_SUFFIX = site_suffix_pattern(
    [*(name for cleaning in CLEANINGS for name in cleaning.site_names), *SITE_SUFFIXES]
)


def body_rules(source: str | None, url: str | None) -> BodyRules:
    """Return the body rules for an item of ``source`` fetched from ``url`` (see the module)."""
    cleaning = _cleaning(source, url)
    return cleaning.body if cleaning is not None else NO_RULES


def own_publisher(source: str | None, url: str | None) -> str | None:
    """Return the name an item of ``source`` fetched from ``url`` is published under when it
    credits no one (East Money's: 东方财富网); ``None`` for an item of no known source."""
    cleaning = _cleaning(source, url)
    return cleaning.publisher if cleaning is not None else None


def _cleaning(source: str | None, url: str | None) -> SourceCleaning | None:
    """Return the cleaning of ``source``, else of the source serving ``url``'s host."""
    cleaning = _BY_SOURCE.get(source) if source else None
    if cleaning is None and url:
        host = _host(url)
        cleaning = next((c for c in CLEANINGS if c.serves(host)), None) if host else None
    return cleaning


def _host(url: str) -> str:
    """Return the lower-case host of ``url`` ("" when it has none or is not a URL)."""
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:  # "http://[::1": not a URL
        return ""
