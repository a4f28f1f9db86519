from __future__ import annotations

import gc
import weakref
from typing import TYPE_CHECKING

import pytest
from scrapy.exceptions import NotConfigured

from crawler.extensions.gcfreeze import FreezeStartupHeap
from tests.conftest import make_crawler

if TYPE_CHECKING:
    from collections.abc import Iterator


class Node:
    """An object the collector tracks, able to sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    """Leave the collector as the test found it: nothing frozen, no crawl counted."""
    yield
    gc.unfreeze()
    FreezeStartupHeap.running = 0


def start() -> FreezeStartupHeap:
    extension = FreezeStartupHeap.from_crawler(make_crawler())
    extension.engine_started()
    return extension


def is_tracked_generation(obj: object) -> bool:
    """Tell whether ``obj`` is in one of the collector's generations (not the permanent one)."""
    return any(o is obj for o in gc.get_objects())


def test_not_configured_when_turned_off() -> None:
    with pytest.raises(NotConfigured):
        FreezeStartupHeap.from_crawler(make_crawler(NEWS_GC_FREEZE=False))


def test_not_configured_when_the_collector_is_disabled() -> None:
    gc.disable()
    try:
        with pytest.raises(NotConfigured):
            FreezeStartupHeap.from_crawler(make_crawler())
    finally:
        gc.enable()


def test_live_objects_are_frozen_for_the_crawl_and_thawed_after() -> None:
    alive = Node()
    extension = start()
    assert gc.get_freeze_count() > 0
    assert not is_tracked_generation(alive)
    assert is_tracked_generation(Node())  # what the crawl creates is collected as usual

    extension.engine_stopped()
    assert gc.get_freeze_count() == 0
    assert is_tracked_generation(alive)


def test_garbage_is_collected_before_freezing() -> None:
    first, second = Node(), Node()
    first.other, second.other = second, first
    gone = weakref.ref(first)
    del first, second
    extension = start()
    assert gone() is None
    extension.engine_stopped()


def test_the_last_crawl_of_the_process_to_stop_thaws() -> None:
    one, two = start(), start()
    one.engine_stopped()
    assert gc.get_freeze_count() > 0
    two.engine_stopped()
    assert gc.get_freeze_count() == 0


def test_a_crawl_that_never_started_thaws_nothing() -> None:
    running = start()
    FreezeStartupHeap.from_crawler(make_crawler()).engine_stopped()
    assert gc.get_freeze_count() > 0
    running.engine_stopped()
    assert gc.get_freeze_count() == 0
