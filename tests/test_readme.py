"""The README's settings table is the operators' contract: it must match crawler/settings.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import crawler.settings

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def settings_rows() -> dict[str, str]:
    """Return the settings table: setting name → its environment variable ('' when none)."""
    section = README.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for name, environment in re.findall(r"^\| `(\w+)` \| ([^|]+) \|", section, flags=re.M):
        environment = environment.strip()
        rows[name] = name if environment == "same" else environment.strip("`").split("`")[0]
        if environment == "—":
            rows[name] = ""
    return rows


def test_every_news_setting_is_documented() -> None:
    defined = {name for name in vars(crawler.settings) if name.startswith("NEWS_")}
    assert defined <= set(settings_rows())


def test_documented_environment_variables_change_the_settings() -> None:
    variables = {name: env for name, env in settings_rows().items() if env}
    environment = {**os.environ, **{env: "7" for env in variables.values()}}
    probe = (
        "import json, crawler.settings as s;"
        f"print(json.dumps({{n: str(getattr(s, n)) for n in {sorted(variables)!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    values = json.loads(result.stdout)
    unchanged = [name for name, value in values.items() if "7" not in value]
    assert unchanged == []


def test_mongo_uri_falls_back_to_the_conventional_variable() -> None:
    environment = {k: v for k, v in os.environ.items() if k != "NEWS_MONGO_URI"}
    environment["MONGO_URI"] = "mongodb://db.example:27017"
    result = subprocess.run(
        [sys.executable, "-c", "import crawler.settings as s; print(s.NEWS_MONGO_URI)"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "mongodb://db.example:27017"
