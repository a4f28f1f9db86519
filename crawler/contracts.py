"""``scrapy check`` contracts of our own, registered in ``SPIDER_CONTRACTS``.

``@fixture <source>/<file>`` runs a callback on a recorded response from ``tests/fixtures/``
instead of the live site, so ``scrapy check`` works offline and stays reproducible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy.contracts import Contract
from scrapy.utils.conf import closest_scrapy_cfg


def fixtures_dir() -> Path:
    """Return the project's ``tests/fixtures`` directory (beside ``scrapy.cfg``)."""
    return Path(closest_scrapy_cfg() or __file__).resolve().parent / "tests" / "fixtures"


class FixtureContract(Contract):
    """``@fixture eastmoney/column_345_page1.json``: the callback's response is that file."""

    name = "fixture"

    def adjust_request_args(self, args: dict[str, Any]) -> dict[str, Any]:
        path = fixtures_dir() / self.args[0]
        if not path.is_file():
            raise FileNotFoundError(path)
        args["url"] = path.as_uri()
        return args
