"""Shared fixtures: a crawler with the project's settings and the normalisation chain."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.utils.project import get_project_settings
from scrapy.utils.reactor import install_reactor, is_reactor_installed
from scrapy.utils.test import get_crawler

from pipelines.chain import PipelineChain

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"

# Crawlers built in-process expect the project's reactor (crawls themselves run in subprocesses).
if not is_reactor_installed():
    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")


def make_crawler(**overrides: Any) -> Crawler:
    """Return a crawler with the project's settings plus ``overrides``, its stats open."""
    settings = get_project_settings().copy_to_dict()
    # No test talks to a real MongoDB unless it says so.
    settings["NEWS_MONGO_URI"] = ""
    settings.update(overrides)
    crawler = get_crawler(settings_dict=settings)
    crawler.stats.open_spider()
    return crawler


@pytest.fixture
def crawler() -> Crawler:
    return make_crawler()


@pytest.fixture
def chain(crawler: Crawler) -> PipelineChain:
    return PipelineChain(crawler)
