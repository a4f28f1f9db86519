"""The settings table (crawler/options.py): the environment, the settings module, every reader's
default, the generated docs/settings.md and the one list of stages all follow it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import pytest
from scrapy.settings import BaseSettings, Settings
from scrapy.utils.project import get_project_settings

from crawler.commands.extract import EXTRACT_PIPELINES
from crawler.docs import DOCS, settings_markdown
from crawler.options import (
    CHECKED_STAGES,
    CRAWL_STAGES,
    NORMALIZE_STAGES,
    OPTIONS,
    TABLE,
    Option,
    SettingError,
    environment_values,
    option,
)
from pipelines.chain import PipelineChain
from tests.conftest import ROOT, make_crawler

VARIABLES = sorted({variable for row in TABLE for variable in row.env})
# What crawler/settings.py makes of two empty defaults.
DERIVED = {"USER_AGENT": "finews/0.1 (+https://github.com/finews/finews)", "LOG_FILE": None}


def probe(row: Option) -> tuple[str, Any]:
    """Return an environment value for ``row`` that differs from its default, and its reading."""
    default = row.default
    if row.kind is bool:
        return ("false" if default else "true"), not default
    if row.kind is int:
        return str(default + 7), default + 7
    if row.kind is float:
        return str(default + 0.5), default + 0.5
    if row.kind is list:
        return "probe-a, probe-b", ["probe-a", "probe-b"]
    return f"probe-{row.name}", f"probe-{row.name}"


def settings_module(environment: dict[str, str]) -> dict[str, Any]:
    """Return every table setting of crawler/settings.py imported under ``environment`` alone."""
    clean = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    script = (
        "import json, crawler.settings as s;"
        f"print(json.dumps({{n: getattr(s, n) for n in {sorted(OPTIONS)!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    values: dict[str, Any] = json.loads(result.stdout)
    return values


def test_without_the_environment_the_settings_are_the_table_defaults() -> None:
    expected = {row.name: row.default for row in TABLE} | DERIVED
    assert settings_module({}) == expected


@pytest.mark.parametrize("position", [0, 1])
def test_each_environment_variable_sets_its_setting_typed(position: int) -> None:
    # Each variable gets a value of its type that is not the default, and the setting must hold
    # exactly that value: a variable that is ignored, or read as text, fails.
    rows = [row for row in TABLE if len(row.env) > position]
    environment: dict[str, str] = {}
    expected: dict[str, Any] = {}
    for row in rows:
        text, value = probe(row)
        assert value != row.default
        environment[row.env[position]] = text
        # Later variables are set too: the first one present must win over them.
        environment.update({later: "ignored" for later in row.env[position + 1 :]})
        expected[row.name] = value
    values = settings_module(environment)
    assert {name: values[name] for name in expected} == expected


@pytest.mark.parametrize(
    ("variable", "text"),
    [
        ("NEWS_MONGO_TIMEOUT_MS", "3s"),
        ("NEWS_DEDUPE_WINDOW_HOURS", "half a day"),
        # Scrapy would read "7" as true: a typo must not switch a setting on.
        ("NEWS_GC_FREEZE", "7"),
        ("NEWS_ROBOTSTXT_OBEY", "maybe"),
    ],
)
def test_a_bad_environment_value_is_refused_naming_its_variable(variable: str, text: str) -> None:
    with pytest.raises(SettingError, match=re.escape(f"{variable}={text!r} is not a valid")):
        environment_values({variable: text})


def test_empty_numbers_in_the_environment_keep_the_default() -> None:
    values = environment_values({"NEWS_MONGO_TIMEOUT_MS": "", "NEWS_MONGO_URI": ""})
    assert values["NEWS_MONGO_TIMEOUT_MS"] == 3000
    assert values["NEWS_MONGO_URI"] == ""  # empty text is a value: storage off


def test_option_defaults_are_the_table_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    # BaseSettings: without Scrapy's own defaults for the Scrapy settings of the table.
    assert {name: option(BaseSettings(), name) for name in OPTIONS} == {
        row.name: row.default for row in TABLE
    }


def test_option_reads_settings_given_as_text_or_values() -> None:
    settings = Settings(
        {
            "NEWS_MONGO_VALIDATOR": "0",
            "NEWS_MONGO_BATCH_SIZE": "50",
            "NEWS_MONGO_FLUSH_SECONDS": 0,
            "NEWS_CRAWLALL_SPIDERS": "eastmoney, finews",
            "NEWS_HEALTH_MIN_COVERAGE": '{"title": 0.5}',
            "NEWS_RUN_OK_REASONS": ["finished", "closespider_timeout"],
        }
    )
    assert option(settings, "NEWS_MONGO_VALIDATOR") is False
    assert option(settings, "NEWS_MONGO_BATCH_SIZE") == 50
    assert option(settings, "NEWS_MONGO_FLUSH_SECONDS") == 0.0
    assert option(settings, "NEWS_CRAWLALL_SPIDERS") == ["eastmoney", "finews"]
    assert option(settings, "NEWS_HEALTH_MIN_COVERAGE") == {"title": 0.5}
    assert option(settings, "NEWS_RUN_OK_REASONS") == ["finished", "closespider_timeout"]
    with pytest.raises(SettingError, match="NEWS_MONGO_BATCH_SIZE='many'"):
        option(Settings({"NEWS_MONGO_BATCH_SIZE": "many"}), "NEWS_MONGO_BATCH_SIZE")


def test_option_falls_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWS_MONGO_URI", raising=False)
    monkeypatch.setenv("MONGO_URI", "mongodb://env-host:27017")
    assert option(Settings(), "NEWS_MONGO_URI") == "mongodb://env-host:27017"


def named_settings(directory: str) -> set[str]:
    """Return every ``NEWS_*`` name the code under ``directory`` quotes or documents, less the
    Python constants it defines under such names (``NEWS_COLUMNS``)."""
    named: set[str] = set()
    constants: set[str] = set()
    for path in (ROOT / directory).rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        named.update(re.findall(r"[\"'`](NEWS_[A-Z0-9_]*[A-Z0-9])[\"'`]", text))
        constants.update(re.findall(r"^(NEWS_[A-Z0-9_]+)\s*[:=]", text, flags=re.M))
    return named - constants


@pytest.mark.parametrize("directory", ["crawler", "pipelines"])
def test_every_setting_the_code_names_is_in_the_table(directory: str) -> None:
    assert named_settings(directory) - set(OPTIONS) - set(VARIABLES) == set()


def test_docs_settings_page_is_generated_from_the_table() -> None:
    # Regenerate with `python -m crawler.docs`.
    assert (DOCS / "settings.md").read_text(encoding="utf-8") == settings_markdown()


def test_every_setting_has_a_section_and_a_doc() -> None:
    assert [row.name for row in TABLE if not (row.section and row.doc)] == []
    assert len(OPTIONS) == len(TABLE)


# --- the one list of stages ------------------------------------------------------------------------


def test_crawls_extract_and_the_chain_run_the_one_list_of_stages() -> None:
    pipelines = get_project_settings().getdict("ITEM_PIPELINES")
    assert sorted(pipelines, key=pipelines.__getitem__) == list(CRAWL_STAGES)
    assert sorted(EXTRACT_PIPELINES, key=EXTRACT_PIPELINES.__getitem__) == list(NORMALIZE_STAGES)
    chain = PipelineChain(make_crawler())
    assert [f"{type(s).__module__}.{type(s).__name__}" for s in chain.stages] == list(
        CHECKED_STAGES
    )
    assert CRAWL_STAGES[: len(NORMALIZE_STAGES)] == NORMALIZE_STAGES


def test_nothing_outside_pipelines_imports_pipelines() -> None:
    importers = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "crawler").rglob("*.py")
        if re.search(r"^\s*(from|import) pipelines\b", path.read_text("utf-8"), flags=re.M)
    ]
    assert importers == []
