"""Shared fixtures: a crawler with the project's settings, the normalisation chain, and a
MongoDB-protocol server for the tests that need one on the wire."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.utils.project import get_project_settings
from scrapy.utils.reactor import install_reactor, is_reactor_installed
from scrapy.utils.test import get_crawler

from pipelines.chain import PipelineChain

if TYPE_CHECKING:
    from collections.abc import Iterator

    from scrapy.crawler import Crawler

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
FERRETDB = ROOT / "deploy" / "ferretdb.sh"
#: deploy/ferretdb.sh's exit status when Go, needed once to build the server, is missing.
NO_GO = 3

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


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Return a MongoDB server's URI: ``MONGO_URI`` when set (a real MongoDB), else a FerretDB
    server started for the session by ``deploy/ferretdb.sh`` and stopped after it.

    Skips only when Go, needed to build FerretDB, is missing; a server that fails to start fails.
    """
    if uri := os.environ.get("MONGO_URI", "").strip():
        yield uri
        return
    built = subprocess.run([FERRETDB, "build"], capture_output=True, text=True, check=False)
    if built.returncode == NO_GO:
        pytest.skip("MONGO_URI is unset and Go is not installed: no server to build FerretDB from")
    if built.returncode:
        pytest.fail(f"deploy/ferretdb.sh build failed:\n{built.stderr}")
    directory = tmp_path_factory.mktemp("ferretdb")
    started = subprocess.run(
        [FERRETDB, "start", str(directory)], capture_output=True, text=True, check=False
    )
    if started.returncode:
        pytest.fail(f"deploy/ferretdb.sh start failed:\n{started.stderr}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([FERRETDB, "stop", str(directory)], check=False)
