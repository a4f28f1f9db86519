from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest
from scrapy.exceptions import NotConfigured

from crawler.extensions.loglevel import LOGGERS, LoggerLevels, handler_level
from tests.conftest import make_crawler

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def scrapy_logger_levels() -> Iterator[None]:
    """Leave the loggers' levels as the test found them."""
    saved = {name: logging.getLogger(name).level for name in LOGGERS}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize(
    ("settings", "level"),
    [
        ({"LOG_LEVEL": "INFO"}, logging.INFO),
        ({"LOG_LEVEL": "warning"}, logging.WARNING),
        ({"LOG_LEVEL": "DEBUG"}, None),
        ({"LOG_LEVEL": "NOISY"}, None),
        ({"LOG_LEVEL": "INFO", "LOG_ENABLED": False}, None),
        # Someone else's handler may want DEBUG records: leave the loggers alone.
        ({"LOG_LEVEL": "INFO", "LOG_INSTALL_ROOT_HANDLER": False}, None),
    ],
)
def test_handler_level(settings: dict[str, object], level: int | None) -> None:
    assert handler_level(make_crawler(**settings).settings) == level


def test_not_configured_when_every_record_is_written() -> None:
    with pytest.raises(NotConfigured):
        LoggerLevels.from_crawler(make_crawler(LOG_LEVEL="DEBUG"))


@pytest.mark.usefixtures("scrapy_logger_levels")
def test_levels_are_raised_for_the_crawl_and_put_back() -> None:
    logging.getLogger("scrapy").setLevel(logging.DEBUG)
    logging.getLogger("crawler").setLevel(logging.NOTSET)
    logging.getLogger("pipelines").setLevel(logging.ERROR)  # already stricter: kept
    extension = LoggerLevels.from_crawler(make_crawler(LOG_LEVEL="INFO"))

    extension.engine_started()
    engine = logging.getLogger("scrapy.core.engine")
    assert not engine.isEnabledFor(logging.DEBUG)
    assert engine.isEnabledFor(logging.INFO)
    assert not logging.getLogger("crawler.spiders.eastmoney").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("pipelines").level == logging.ERROR

    extension.engine_stopped()
    assert logging.getLogger("scrapy").level == logging.DEBUG
    assert logging.getLogger("crawler").level == logging.NOTSET
    assert logging.getLogger("pipelines").level == logging.ERROR
