"""Score and time the generic extractor on saved pages, beside trafilatura when installed (by hand).

    python bench/extraction.py [PAGES_DIR] [--normalisers pipelines|interim] [--per-page]

PAGES_DIR (default tests/fixtures/pages, the development set: real pages with provenance) holds
*.html and truth.jsonl. Predictions are written to bench/out/, scored with
../shared/tools/score_extraction.py; the last line printed is the scorer's summary line for finews.
trafilatura runs in the same process first when importable (a bench-only tool, not a project
dependency: ``pip install trafilatura lxml_html_clean``).

Raw fields become comparable values through the pipeline's normalisers (title, dates, body,
attribution). ``interim`` is a minimal stand-in kept for when ``pipelines`` cannot be imported.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lxml import html  # noqa: E402

from crawler.extract import ExtractedArticle, extract_article  # noqa: E402
from crawler.vocabulary import CHINA_TZ  # noqa: E402

SHARED = ROOT.parent / "shared"
DEFAULT_PAGES = ROOT / "tests" / "fixtures" / "pages"
SCORER = SHARED / "tools" / "score_extraction.py"
OUT = ROOT / "bench" / "out"
# Pages are old: relative times are anchored at a fixed clock so runs are reproducible.
FROZEN_NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Normalisers:
    """Turns raw extracted fields into the values the scorer compares."""

    name: str
    title: Callable[[str | None], str | None]
    publish_time: Callable[[str | None], str | None]
    body_and_source: Callable[[str | None, str | None], tuple[str, str | None]]


# ---------------------------------------------------------------- the pipeline's normalisers
def pipeline_normalisers() -> Normalisers:
    """Return the project's own normalisers from `pipelines/`."""
    from crawler.normalize.body import html_to_text, sanitize_body
    from crawler.normalize.credits import extract_credits, normalize_publisher
    from crawler.normalize.dates import parse_publish_time
    from crawler.normalize.title import normalize_title

    def publish_time(raw: str | None) -> str | None:
        parsed = parse_publish_time(raw, now=FROZEN_NOW)
        return parsed.at.astimezone(CHINA_TZ).isoformat() if parsed else None

    def body_and_source(body_html: str | None, publisher: str | None) -> tuple[str, str | None]:
        remaining, credits = extract_credits(sanitize_body(body_html))
        return html_to_text(remaining), normalize_publisher(publisher) or credits.publisher

    return Normalisers("pipelines", normalize_title, publish_time, body_and_source)


# ---------------------------------------------------------------- interim stand-in
_INTERIM_TIME = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[T\s]*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?)?"
)
_INTERIM_CREDIT = re.compile(
    r"^[（(]?\s*(?:责任编辑|编辑|责编|校对|本文来源|文章来源|信息来源|来源|作者|记者|采写|执笔|供稿|摄影)"
    r"\s*[:：/]"
)


def interim_publish_time(raw: str | None) -> str | None:
    """Read an absolute raw time as ISO 8601 (+08:00 unless stated); None otherwise."""
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        match = _INTERIM_TIME.search(raw)
        if match is None:
            return None
        year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
        if match[4] is None:
            return f"{year:04d}-{month:02d}-{day:02d}"
        moment = datetime(year, month, day, hour, minute, second)
    return (moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)).isoformat()


def interim_body_and_source(body_html: str | None, publisher: str | None) -> tuple[str, str | None]:
    """Return the body as text lines without credit lines, and the publisher as is."""
    if not body_html:
        return "", publisher
    from crawler.extract.dom import text_lines

    root = html.fragment_fromstring(body_html, create_parent="div")
    return "\n".join(
        line for line in text_lines(root) if not _INTERIM_CREDIT.match(line)
    ), publisher


def interim_normalisers() -> Normalisers:
    """Return the minimal stand-in normalisers."""
    return Normalisers(
        "interim", lambda title: title, interim_publish_time, interim_body_and_source
    )


def choose_normalisers(name: str) -> Normalisers:
    """Return the requested normalisers, falling back to the interim ones when unavailable."""
    if name == "pipelines":
        try:
            return pipeline_normalisers()
        except ImportError as exc:
            print(f"pipelines normalisers unavailable ({exc}); using interim", file=sys.stderr)
    return interim_normalisers()


# ---------------------------------------------------------------- runs
def finews_prediction(path: Path, normalisers: Normalisers) -> tuple[dict, float]:
    """Extract one page with finews; return its prediction row and the extraction time (ms)."""
    body = path.read_bytes()
    started = time.perf_counter()
    article: ExtractedArticle = extract_article(body)
    elapsed = (time.perf_counter() - started) * 1000
    body_text, source = normalisers.body_and_source(article.body_html, article.publisher)
    row = {
        "file": path.name,
        "title": normalisers.title(article.title),
        "publish_time": normalisers.publish_time(article.publish_time),
        "source": source,
        "authors": article.authors,
        "body_text": body_text,
    }
    return row, elapsed


def trafilatura_prediction(path: Path) -> tuple[dict, float]:
    """Extract one page with trafilatura (full-time dates); return its row and time (ms)."""
    import trafilatura

    body = path.read_bytes()
    started = time.perf_counter()
    document = trafilatura.bare_extraction(
        body,
        with_metadata=True,
        date_extraction_params={"extensive_search": True, "outputformat": "%Y-%m-%d %H:%M:%S"},
    )
    elapsed = (time.perf_counter() - started) * 1000
    row = {
        "file": path.name,
        "title": getattr(document, "title", None),
        "publish_time": getattr(document, "date", None),
        "source": None,
        "authors": [getattr(document, "author", None)] if getattr(document, "author", None) else [],
        "body_text": getattr(document, "text", None) or "",
    }
    return row, elapsed


def run(
    name: str,
    pages: list[Path],
    predict: Callable[[Path], tuple[dict, float]],
    truth: Path,
    per_page: bool,
) -> tuple[str, list[float]]:
    """Predict every page, write the JSONL, score it; return the scorer's last line and times."""
    OUT.mkdir(parents=True, exist_ok=True)
    predictions = OUT / f"predictions_{name}.jsonl"
    times: list[float] = []
    with predictions.open("w", encoding="utf-8") as out:
        for page in pages:
            row, elapsed = predict(page)
            times.append(elapsed)
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    command = [sys.executable, str(SCORER), str(predictions), "--truth", str(truth)]
    report = subprocess.run(
        [*command, "--per-page"] if per_page else command,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if per_page:
        print(f"--- {name}\n{report}\n")
    return report.splitlines()[-1], times


def main() -> None:
    """Run the benchmark and print the scorer's summary for each extractor, finews last."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pages", nargs="?", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--normalisers", choices=("pipelines", "interim"), default="pipelines")
    parser.add_argument("--per-page", action="store_true", help="print the scorer's page lines")
    args = parser.parse_args()
    pages = sorted(args.pages.glob("*.html"))
    truth = args.pages / "truth.jsonl"
    normalisers = choose_normalisers(args.normalisers)

    results: list[tuple[str, str, list[float]]] = []
    try:
        import trafilatura  # noqa: F401
    except ImportError:
        print("trafilatura not installed: finews only", file=sys.stderr)
    else:
        line, times = run("trafilatura", pages, trafilatura_prediction, truth, args.per_page)
        results.append(("trafilatura", line, times))
    line, times = run(
        "finews", pages, lambda page: finews_prediction(page, normalisers), truth, args.per_page
    )
    results.append((f"finews ({normalisers.name} normalisers)", line, times))

    for name, line, times in results:
        print(
            f"{name:32s} median={statistics.median(times):6.1f} ms  total={sum(times):7.1f} ms"
            f"  {line}"
        )
    print(results[-1][1])


if __name__ == "__main__":
    main()
