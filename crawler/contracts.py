"""``scrapy check`` contracts of our own, registered in ``SPIDER_CONTRACTS``.

``@fixture <source>/<file>`` runs a callback on a recorded response instead of the live site, so
``scrapy check`` works offline and stays reproducible. The recorded responses live where
``NEWS_CONTRACT_FIXTURES`` says (the repository keeps them in ``tests/fixtures``)::

    scrapy check -s NEWS_CONTRACT_FIXTURES=tests/fixtures -s NEWS_MONGO_URI=
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.contracts import Contract

from crawler.options import option

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy.settings import BaseSettings


def fixture_path(settings: BaseSettings, name: str) -> Path:
    """Return the recorded response ``name`` under ``NEWS_CONTRACT_FIXTURES``.

    Raises :class:`FileNotFoundError` naming the setting when it is unset or the file missing.
    """
    root = option(settings, "NEWS_CONTRACT_FIXTURES")
    if not root:
        raise FileNotFoundError(
            f"@fixture {name}: NEWS_CONTRACT_FIXTURES is not set; point it at the directory "
            "of recorded responses (scrapy check -s NEWS_CONTRACT_FIXTURES=tests/fixtures)"
        )
    path = Path(root).resolve() / name
    if not path.is_file():
        raise FileNotFoundError(f"@fixture {name}: no such file {path} (NEWS_CONTRACT_FIXTURES)")
    return path


class FixtureContract(Contract):
    """``@fixture eastmoney/column_345_page1.json``: the callback's response is that file."""

    name = "fixture"

    def __init__(self, method: Callable[..., Any], *args: Any) -> None:
        super().__init__(method, *args)
        # Contracts are built from a spider's bound callbacks, and the spider has the settings.
        self.settings: BaseSettings = method.__self__.settings  # type: ignore[attr-defined]

    def adjust_request_args(self, args: dict[str, Any]) -> dict[str, Any]:
        args["url"] = fixture_path(self.settings, self.args[0]).as_uri()
        return args
