"""Snapshot what a checkout produces and compare two snapshots (proof that a refactor is neutral).

    python bench/compare.py snapshot --repo DIR --out SNAPSHOT_DIR [--articles 300] [--seed 1]
    python bench/compare.py diff SNAPSHOT_A SNAPSHOT_B

``snapshot`` runs the checkout ``DIR`` only through entry points that do not depend on where its
modules live (``python -m scrapy`` with ``cwd=DIR`` and ``PYTHONPATH=DIR``; this script imports
nothing from ``crawler`` or ``pipelines``), and writes one JSON file per group:

- ``extract.json``: ``scrapy extract`` of every HTML page in ``DIR/tests/fixtures/pages``, one
  record per file name;
- ``eastmoney.json``: ``scrapy crawl eastmoney`` of ``DIR/bench/site.py`` (``--articles`` articles,
  ``--seed``), every item after all pipelines (storage off), keyed by ``id``;
- ``site.json``: ``scrapy crawl site`` of the sources ``cmrnn``, ``zggsb`` (``DIR/sources.toml``)
  and ``benchpages`` (an RSS feed listing every page of ``DIR/tests/fixtures/pages``), served from
  the reconstructed fixtures by a local proxy, so every URL keeps its real host; keyed by ``id``;
- ``runs.json``: each command's exit status and, for the crawls, the run record
  (``NEWS_RUNS_FILE``) without its host, pid, times and run id.

Values that depend on the crawl and not on the code are dropped or replaced: ``fetched_at``, and
the benchmark site's random port (``http://127.0.0.1:<port>`` becomes ``http://bench-site``).
``meta.json`` (checkout, commit, durations) is informational and not compared.

``diff`` prints, per group and in all, the items compared, identical, differing and missing,
then every difference: the item's key and each differing field with both values, shortened.
Exit status 1 when the snapshots differ, else 0.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

GROUPS = ("extract", "eastmoney", "site", "runs")
VOLATILE_ITEM_FIELDS = frozenset({"fetched_at"})
VOLATILE_RUN_FIELDS = frozenset({"_id", "host", "pid", "started_at", "finished_at", "elapsed_s"})
SKIPPED_PAGES = frozenset({"PROVENANCE.md", "SOURCES.tsv", "truth.jsonl"})
BENCH_ORIGIN = "http://bench-site"
PAGES_HOST = "pages.finews.test"
PAGE_SIZE = 100
EASTMONEY_COLUMN = 345
SITE_DAY = "2015-03-02"  # the zggsb issue of the reconstructed e-paper
TIMEOUT_S = 900
SHOWN_CHARS = 120

# The settings every crawl runs with: no politeness delays, no storage, no run records in MongoDB.
CRAWL_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "ROBOTSTXT_OBEY": "False",
    "CONCURRENT_REQUESTS": "32",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
    "NEWS_RETRY_BACKOFF_BASE": "0",
    "HTTPCACHE_ENABLED": "False",
    "NEWS_MONGO_URI": "",
    "NEWS_RUNS_MONGO": "False",
    "LOG_LEVEL": "WARNING",
}

# `python -m scrapy`, except that an installed `scrapy.commands` entry point that does not import
# from this checkout is skipped: the virtualenv's metadata describes the checkout it was
# installed from, whose command modules another checkout may name differently.
SCRAPY_RUNNER = """
import sys
from importlib.metadata import entry_points

from scrapy import cmdline


def loadable_commands(inproject, group="scrapy.commands"):
    commands = {}
    for entry_point in entry_points(group=group):
        try:
            commands[entry_point.name] = entry_point.load()()
        except (ImportError, AttributeError) as error:
            print(f"compare: entry point {entry_point.name!r} skipped: {error}", file=sys.stderr)
    return commands


cmdline._get_commands_from_entry_points = loadable_commands
sys.argv[0] = "scrapy"
cmdline.execute()
"""

# The sources crawled by `scrapy crawl site` (the checkout's own, plus this one).
PAGES_SOURCE = f"""

# Added by bench/compare.py: every page of tests/fixtures/pages, listed by one RSS feed.
[[source]]
name = "benchpages"
publisher = "样页"
start_urls = [{{ url = "http://{PAGES_HOST}/rss.xml", kind = "rss" }}]
download_delay = 0
concurrency = 8
"""
SITE_SOURCES = "cmrnn,zggsb,benchpages"

Routes = dict[tuple[str, str], tuple[str, bytes]]


# --- running the checkout ------------------------------------------------------------------------


def checkout_env(repo: Path, **extra: str) -> dict[str, str]:
    """Return the environment of a command run in ``repo``: no ambient NEWS_*, Mongo or proxy."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("NEWS_")
        and name != "MONGO_URI"
        and not name.lower().endswith("_proxy")
    }
    env.update(PYTHONPATH=str(repo), PYTHONHASHSEED="0", **extra)
    return env


def scrapy_command(arguments: list[str], settings: dict[str, str]) -> list[str]:
    """Return the command line of ``scrapy ARGUMENTS -s NAME=VALUE…``."""
    command = [sys.executable, "-c", SCRAPY_RUNNER, *arguments]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    return command


def run_scrapy(
    repo: Path, arguments: list[str], settings: dict[str, str], **env: str
) -> subprocess.CompletedProcess[str]:
    """Run a scrapy command in ``repo``; report its stderr's end when it fails."""
    done = subprocess.run(
        scrapy_command(arguments, settings),
        cwd=repo,
        env=checkout_env(repo, **env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        print(f"scrapy {arguments[0]} exited {done.returncode}:", file=sys.stderr)
        print(done.stderr[-3000:], file=sys.stderr)
    return done


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Return the JSON objects of a JSON-lines file (none when it does not exist)."""
    if not path.exists():
        return []
    lines = path.read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def replace_text(value: Any, old: str, new: str) -> Any:
    """Return ``value`` with ``old`` replaced by ``new`` in every string it holds."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [replace_text(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: replace_text(v, old, new) for k, v in value.items()}
    return value


def keyed_items(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return items by ``id`` (else ``url``) without volatile fields; repeats get ``#2``…"""
    keyed: dict[str, dict[str, Any]] = {}
    for item in items:
        base = key = str(item.get("id") or item.get("url"))
        repeat = 1
        while key in keyed:
            repeat += 1
            key = f"{base}#{repeat}"
        keyed[key] = {k: v for k, v in item.items() if k not in VOLATILE_ITEM_FIELDS}
    return dict(sorted(keyed.items()))


def run_summary(done: subprocess.CompletedProcess[str], runs_file: Path | None) -> dict[str, Any]:
    """Return a command's exit status and its last run record without volatile fields."""
    summary: dict[str, Any] = {"exit": done.returncode}
    records = read_jsonl(runs_file) if runs_file else []
    if records:
        summary["run"] = {k: v for k, v in records[-1].items() if k not in VOLATILE_RUN_FIELDS}
    return summary


# --- 1. scrapy extract ---------------------------------------------------------------------------


def fixture_pages(repo: Path) -> list[Path]:
    """Return the HTML pages of ``tests/fixtures/pages``, by name."""
    pages = sorted((repo / "tests" / "fixtures" / "pages").iterdir())
    return [p for p in pages if p.is_file() and p.name not in SKIPPED_PAGES]


def snapshot_extract(repo: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run ``scrapy extract`` on every fixture page; return records by file, run summary."""
    pages = [str(p) for p in fixture_pages(repo)]
    settings = {**CRAWL_SETTINGS, "NEWS_RUNS_ENABLED": "False"}
    done = run_scrapy(repo, ["extract", *pages], settings)
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    by_file = {str(r.get("file")): r for r in records}
    summary = {"exit": done.returncode, "pages": len(pages)}
    return dict(sorted(by_file.items())), summary


# --- 2. scrapy crawl eastmoney against bench/site.py ---------------------------------------------


class BenchSite:
    """The checkout's ``bench/site.py`` in a subprocess (it listens on 127.0.0.1 only)."""

    def __init__(self, repo: Path, articles: int, seed: int) -> None:
        command = [sys.executable, str(repo / "bench" / "site.py")]
        command += [f"--articles={articles}", f"--seed={seed}"]
        self.process = subprocess.Popen(
            command, cwd=repo, env=checkout_env(repo), stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        banner = self.process.stdout.readline().split()
        fields = dict(part.split("=", 1) for part in banner[1:] if "=" in part)
        if "port" not in fields:
            self.close()
            raise RuntimeError(f"bench/site.py did not start: {' '.join(banner)!r}")
        self.origin = f"http://127.0.0.1:{fields['port']}"

    def close(self) -> None:
        """Stop the site (by its pid) and wait for it."""
        if self.process.poll() is None:
            os.kill(self.process.pid, 9)
        self.process.wait()


def snapshot_eastmoney(
    repo: Path, articles: int, seed: int, work: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Crawl the benchmark site with the ``eastmoney`` spider; return items by id, run summary."""
    out, runs = work / "eastmoney.jsonl", work / "eastmoney-runs.jsonl"
    site = BenchSite(repo, articles, seed)
    try:
        settings = {
            **CRAWL_SETTINGS,
            "NEWS_EASTMONEY_COLUMN_API": f"{site.origin}/comm/web/getNewsByColumns",
            "NEWS_EASTMONEY_ARTICLE_URL": f"{site.origin}/a/{{code}}.html",
            "NEWS_RUNS_FILE": str(runs),
        }
        arguments = ["crawl", "eastmoney", "-O", str(out), "-a", f"columns={EASTMONEY_COLUMN}"]
        arguments += ["-a", f"page_size={PAGE_SIZE}", "-a", f"pages={-(-articles // PAGE_SIZE)}"]
        done = run_scrapy(repo, arguments, settings)
    finally:
        site.close()
    items = replace_text(keyed_items(read_jsonl(out)), site.origin, BENCH_ORIGIN)
    summary = replace_text(run_summary(done, runs), site.origin, BENCH_ORIGIN)
    return items, summary


# --- 3. scrapy crawl site against the reconstructed fixtures, through a local proxy --------------


def pages_feed(pages: list[Path]) -> bytes:
    """Return an RSS feed listing every fixture page on the pages host."""
    entries = "".join(
        f"<item><title>{html.escape(p.stem)}</title>"
        f"<link>http://{PAGES_HOST}/{html.escape(p.name)}</link></item>"
        for p in pages
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>benchpages</title><link>http://{PAGES_HOST}/</link>{entries}</channel></rss>"
    ).encode()


def site_routes(repo: Path) -> Routes:
    """Return the fixture responses by (host, path), where the real sites would serve them."""
    cmrnn = repo / "tests" / "fixtures" / "cmrnn"
    files = {
        ("www.cmrnn.com.cn", "/"): cmrnn / "index_reconstructed.html",
        ("www.cmrnn.com.cn", "/content/2022-05/20/content_212345.html"): cmrnn
        / "content_2022-05-20_reconstructed.html",
        ("mt.cmrnn.com.cn", "/zggsb/20150302/paper.html"): cmrnn / "zggsb_paper_reconstructed.html",
        ("mt.cmrnn.com.cn", "/zggsb/20150302/1.html"): cmrnn / "zggsb_1_reconstructed.html",
    }
    pages = fixture_pages(repo)
    files.update({(PAGES_HOST, f"/{p.name}"): p for p in pages})
    routes: Routes = {key: ("text/html", path.read_bytes()) for key, path in files.items()}
    routes[PAGES_HOST, "/rss.xml"] = ("application/rss+xml", pages_feed(pages))
    return routes


class FixtureProxy:
    """An HTTP proxy on 127.0.0.1 answering from ``routes`` (404 otherwise), in a thread."""

    def __init__(self, routes: Routes) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), proxy_handler(routes))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def proxy_handler(routes: Routes) -> type[BaseHTTPRequestHandler]:
    """Return the request handler class of a :class:`FixtureProxy`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            host = parts.hostname or self.headers.get("Host", "").split(":")[0]
            kind, body = routes.get((host, parts.path or "/"), ("text/plain", b"not found"))
            self.send_response(200 if kind != "text/plain" else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Stay quiet."""

    return Handler


def snapshot_site(repo: Path, work: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Crawl the fixture sources with the ``site`` spider; return items by id, run summary."""
    out, runs, sources = work / "site.jsonl", work / "site-runs.jsonl", work / "sources.toml"
    sources.write_text((repo / "sources.toml").read_text("utf-8") + PAGES_SOURCE, "utf-8")
    settings = {**CRAWL_SETTINGS, "NEWS_SOURCES_FILE": str(sources), "NEWS_RUNS_FILE": str(runs)}
    arguments = ["crawl", "site", "-O", str(out), "-a", f"source={SITE_SOURCES}"]
    arguments += ["-a", f"date={SITE_DAY}"]
    proxy = FixtureProxy(site_routes(repo))
    try:
        done = run_scrapy(repo, arguments, settings, http_proxy=proxy.url)
    finally:
        proxy.close()
    return keyed_items(read_jsonl(out)), run_summary(done, runs)


# --- snapshot ------------------------------------------------------------------------------------


def git_head(repo: Path) -> str | None:
    """Return the checkout's commit (read only), or None."""
    done = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or None


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as indented, key-sorted UTF-8 JSON."""
    text = json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)
    path.write_text(text + "\n", "utf-8")


def snapshot(repo: Path, out: Path, articles: int, seed: int) -> int:
    """Write the snapshot of checkout ``repo`` into ``out``; return 1 when a command failed."""
    repo = repo.resolve()
    out.mkdir(parents=True, exist_ok=True)
    groups: dict[str, Any] = {}
    runs: dict[str, Any] = {}
    durations: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="finews-compare-") as temporary:
        work = Path(temporary)
        steps = {
            "extract": lambda: snapshot_extract(repo),
            "eastmoney": lambda: snapshot_eastmoney(repo, articles, seed, work),
            "site": lambda: snapshot_site(repo, work),
        }
        for name, step in steps.items():
            started = time.perf_counter()
            groups[name], runs[name] = step()
            durations[name] = round(time.perf_counter() - started, 1)
            print(f"{name}: {len(groups[name])} items in {durations[name]} s", flush=True)
    groups["runs"] = runs
    for name, value in groups.items():
        write_json(out / f"{name}.json", value)
    meta = {"repo": str(repo), "commit": git_head(repo), "articles": articles, "seed": seed}
    write_json(out / "meta.json", {**meta, "durations_s": durations})
    failed = [name for name, run in runs.items() if run["exit"] != 0]
    if failed:
        print(f"snapshot: written, but these commands failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


# --- diff ----------------------------------------------------------------------------------------


def shorten(value: Any) -> str:
    """Return ``value`` as JSON, cut to ``SHOWN_CHARS`` characters."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def shorten_pair(a: Any, b: Any) -> tuple[str, str]:
    """Return two differing values shortened, texts from a little before their first difference."""
    if isinstance(a, str) and isinstance(b, str):
        same = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
        start = max(0, (min(len(a), len(b)) if same is None else same) - SHOWN_CHARS // 4)
        if start:
            return "…" + shorten(a[start:]), "…" + shorten(b[start:])
    return shorten(a), shorten(b)


def differing_fields(a: Any, b: Any) -> list[tuple[str, Any, Any]]:
    """Return (field, value in A, value in B) for every top-level field that differs."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        return [] if a == b else [("(value)", a, b)]
    missing = object()
    fields = sorted(set(a) | set(b))
    pairs = [(f, a.get(f, missing), b.get(f, missing)) for f in fields]
    return [
        (f, "(absent)" if x is missing else x, "(absent)" if y is missing else y)
        for f, x, y in pairs
        if x != y
    ]


def fingerprint(value: Any) -> str:
    """Return a short hash of a value (to tell long differing texts apart)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def load_group(snapshot_dir: Path, group: str) -> dict[str, Any]:
    """Return one group of a snapshot (empty when the file is missing)."""
    path = snapshot_dir / f"{group}.json"
    return json.loads(path.read_text("utf-8")) if path.exists() else {}


def diff_group(
    group: str, a: dict[str, Any], b: dict[str, Any]
) -> tuple[dict[str, int], list[str]]:
    """Compare one group; return its counts and the lines describing each difference."""
    keys = sorted(set(a) | set(b))
    counts = {"compared": len(keys), "identical": 0, "differing": 0, "missing": 0}
    lines: list[str] = []
    for key in keys:
        if key not in a or key not in b:
            counts["missing"] += 1
            lines.append(f"[{group}] {key}: only in {'B' if key not in a else 'A'}")
            continue
        fields = differing_fields(a[key], b[key])
        if not fields:
            counts["identical"] += 1
            continue
        counts["differing"] += 1
        lines.append(f"[{group}] {key}: {len(fields)} field(s) differ")
        for name, x, y in fields:
            shown_a, shown_b = shorten_pair(x, y)
            lines.append(f"    {name}:")
            lines.append(f"      A ({fingerprint(x)}) {shown_a}")
            lines.append(f"      B ({fingerprint(y)}) {shown_b}")
    return counts, lines


def diff(snapshot_a: Path, snapshot_b: Path) -> int:
    """Print how two snapshots differ; return 1 when they do, else 0."""
    total = {"compared": 0, "identical": 0, "differing": 0, "missing": 0}
    details: list[str] = []
    for group in GROUPS:
        a, b = load_group(snapshot_a, group), load_group(snapshot_b, group)
        counts, lines = diff_group(group, a, b)
        details += lines
        total = {k: total[k] + counts[k] for k in total}
        print(f"{group:>9}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"{'total':>9}: " + ", ".join(f"{k} {v}" for k, v in total.items()))
    for line in details:
        print(line)
    same = total["differing"] == 0 and total["missing"] == 0
    print("identical" if same else "DIFFERENT")
    return 0 if same else 1


# --- command line --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Return the parsed command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("snapshot", help="snapshot a checkout's outputs")
    take.add_argument("--repo", type=Path, required=True, help="the checkout to run")
    take.add_argument("--out", type=Path, required=True, help="directory to write")
    take.add_argument("--articles", type=int, default=300, help="articles of the bench site")
    take.add_argument("--seed", type=int, default=1, help="seed of the bench site")
    compare = commands.add_parser("diff", help="compare two snapshots")
    compare.add_argument("snapshot_a", type=Path)
    compare.add_argument("snapshot_b", type=Path)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "snapshot":
        return snapshot(args.repo, args.out, args.articles, args.seed)
    return diff(args.snapshot_a, args.snapshot_b)


if __name__ == "__main__":
    sys.exit(main())
