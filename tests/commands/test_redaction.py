"""No MongoDB secret reaches a log, a stats dump, a run record or a spool file, whatever the URI.

Every command that opens storage runs, as an operator runs it, with a URI whose secrets all hold
the marker ``sEcReT`` (a password with a space, a password with an unescaped ``@``, an AWS
session token in ``authMechanismProperties``, a key file password), pointing at a closed local
port so that storage fails fast and every error path logs. Then all output and every file the
commands wrote is searched for the marker.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from crawler.store.mongo import redact_uri
from tests.conftest import FIXTURES, ROOT
from tests.mockserver import MockServer

if TYPE_CHECKING:
    from pathlib import Path

# Whole crawls or commands in subprocesses: `-m 'not e2e'` leaves them out of a quick run.
pytestmark = pytest.mark.e2e

MARKER = "sEcReT"
HTML = {"Content-Type": "text/html; charset=utf-8"}
PARAGRAPH = "国家统计局今天发布数据显示，十月份全国居民消费价格同比上涨百分之零点二。" * 4

#: URIs (``{port}`` to fill) and what of each must still show once redacted.
URIS: dict[str, tuple[str, str]] = {
    "password-with-a-space": (
        "mongodb://finews:pa s{m}1@127.0.0.1:{port}/?authSource=admin",
        "mongodb://finews:***@127.0.0.1:{port}/?authSource=admin",
    ),
    "password-with-an-at": ("mongodb://finews:p@s{m}2@127.0.0.1:{port}/", "mongodb://***"),
    "aws-session-token-and-key-password": (
        "mongodb://AKIAEXAMPLE:{m}3@127.0.0.1:{port}/?authMechanism=MONGODB-AWS"
        "&authMechanismProperties=AWS_SESSION_TOKEN:{m}4&tlsCertificateKeyFilePassword={m}5",
        "mongodb://AKIAEXAMPLE:***@127.0.0.1:{port}/?authMechanism=MONGODB-AWS"
        "&authMechanismProperties=***&tlsCertificateKeyFilePassword=***",
    ),
}


@pytest.mark.parametrize(("uri", "redacted"), URIS.values(), ids=URIS.keys())
def test_redact_uri_hides_every_secret(uri: str, redacted: str) -> None:
    """Before the fix: ``pa ***`` kept ``sEcReT1``, ``p@s…`` became ``***@s…``, the options
    were kept whole."""
    text = uri.format(m=MARKER, port=9)
    assert redact_uri(text) == redacted.format(port=9)
    # In a message the URI's end is a guess: an unparsable one takes the rest of its line along.
    message = redact_uri(f"MongoDB at {text} failed")
    assert message.startswith(f"MongoDB at {redacted.format(port=9)}")
    assert MARKER not in message


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("mongodb://u:p@h/ then mongodb://v:q@k/", "mongodb://u:***@h/ then mongodb://v:***@k/"),
        ("mongodb://u:12 34@h/ failed", "mongodb://u:***@h/ failed"),
        ("mongodb://h/?password=a b&w=1 failed", "mongodb://h/?password=***&w=1 failed"),
        ("bad option password=abc def&w=1", "bad option password=***&w=1"),
        ("mongodb://h:1/?w=1\nmongodb://u:p@h:2/", "mongodb://h:1/?w=1\nmongodb://u:***@h:2/"),
    ],
)
def test_redact_uri_in_messages(text: str, redacted: str) -> None:
    assert redact_uri(text) == redacted


def closed_port() -> int:
    """Return a local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def site(server: MockServer) -> str:
    """Serve a listing of two articles; return a sources file declaring it."""
    links = "".join(f'<a href="/a/{n}.html">文章{n}</a>' for n in (1, 2))
    server.routes["/list.html"] = (200, HTML, f"<html><body>{links}</body></html>".encode())
    for n in (1, 2):
        page = (
            f"<html><head><title>测试文章{n}</title></head><body><h1>测试文章{n}</h1>"
            f"<p>2026-11-26 10:0{n}:00 来源：测试日报</p>"
            f"<div class=article><p>{n}{PARAGRAPH}</p><p>{PARAGRAPH}{n}</p></div></body></html>"
        )
        server.routes[f"/a/{n}.html"] = (200, HTML, page.encode())
    return (
        '[[source]]\nname = "local"\npublisher = "测试日报"\n'
        f'start_urls = ["{server.url("/list.html")}"]\n'
        "article_pattern = '/a/\\d+\\.html$'\ndownload_delay = 0\n"
    )


@pytest.mark.parametrize(("uri", "redacted"), URIS.values(), ids=URIS.keys())
def test_no_command_logs_or_writes_a_secret(tmp_path: Path, uri: str, redacted: str) -> None:
    port = closed_port()
    posts = tmp_path / "posts"
    posts.mkdir()
    for name in sorted(p.name for p in (FIXTURES / "finews-posts" / "posts").glob("2021-*.md"))[:2]:
        (posts / name).write_bytes((FIXTURES / "finews-posts" / "posts" / name).read_bytes())
    with MockServer() as server:
        (tmp_path / "sources.toml").write_text(site(server), encoding="utf-8")
        env = {
            **os.environ,
            "NEWS_MONGO_URI": uri.format(m=MARKER, port=port),
            "NEWS_MONGO_TIMEOUT_MS": "300",
            "NEWS_SPOOL_DIR": str(tmp_path / "spool"),
            "NEWS_RUNS_FILE": str(tmp_path / "runs.jsonl"),
            "NEWS_LOCK_FILE": str(tmp_path / "crawlall.lock"),
            "NEWS_JOBDIR": "",
            "NEWS_SOURCES_FILE": str(tmp_path / "sources.toml"),
            "NEWS_ROBOTSTXT_OBEY": "False",
        }
        env.pop("MONGO_URI", None)
        commands = [
            ["crawl", "site"],
            ["crawlall", "site"],
            ["spool-replay"],
            ["import-jekyll", str(posts)],
        ]
        outputs = []
        for command in commands:
            result = subprocess.run(
                [sys.executable, "-m", "scrapy", *command, "-s", "AUTOTHROTTLE_ENABLED=False"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            outputs.append((command[0], result.stdout + result.stderr))
    for name, output in outputs:
        assert MARKER not in output, f"{name} logged a secret"
        assert redacted.format(port=port) in output, f"{name} never named the server: {output}"
    assert "Dumping Scrapy stats" in outputs[0][1]
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(path.name.startswith("spool-") for path in written)  # the crawls spooled
    assert (tmp_path / "runs.jsonl").exists()
    for path in written:
        assert MARKER.encode() not in path.read_bytes(), f"{path} holds a secret"
