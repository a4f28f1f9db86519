"""Run a Scrapy command with its memory growth traced: where a long-running crawl's memory goes.

    python bench/memtrace.py OUT --baseline 90 --every 120 -- crawl eastmoney_724 -a follow=10s …

Starts :mod:`tracemalloc` (one frame per allocation), runs ``scrapy <args>`` in this process, and
from a thread takes a baseline snapshot ``--baseline`` seconds in, then one every ``--every``
seconds; each is written to ``OUT`` as the 25 source lines whose live allocations grew most since
the baseline, and the 15 object types whose live count (:func:`gc.get_objects`) grew most.
Tracing slows the process (about 2×): use it to find a leak, not to time a run.
``bench/freshness.py --trace OUT`` traces its follower with it (through ``bench/follower.py``).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import sys
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2`` (the fields we read, and those before them)."""

    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]  # fmt: skip


def malloc_mb() -> str:
    """glibc's heap: bytes in use and free (kept, not returned) by malloc, in MB."""
    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return "malloc: unknown"
    mallinfo2.restype = MallInfo2
    info = mallinfo2()
    used, free, mapped = info.uordblks, info.fordblks, info.hblkhd
    mb = [f"{n / 2**20:.1f}" for n in (used, free, mapped)]
    return f"malloc in use {mb[0]} MB, free {mb[1]} MB, mmapped {mb[2]} MB"


def rss_mb() -> float:
    """This process's resident set, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def type_counts() -> Counter[str]:
    """How many objects the collector tracks, by type name."""
    return Counter(type(o).__qualname__ for o in gc.get_objects())


def report(out: Path, started: float, base: tracemalloc.Snapshot, base_types: Counter[str]) -> None:
    """Append the growth since ``base`` to ``out``."""
    snapshot = tracemalloc.take_snapshot()
    current, peak = tracemalloc.get_traced_memory()
    lines = [f"== {time.monotonic() - started:.0f} s: RSS {rss_mb():.1f} MB, traced "
             f"{current / 2**20:.1f} MB (peak {peak / 2**20:.1f} MB), {malloc_mb()}, threads "
             f"{threading.active_count()}"]  # fmt: skip
    for stat in snapshot.compare_to(base, "lineno")[:25]:
        lines.append(f"{stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d}  {stat.traceback}")
    grown = type_counts()
    grown.subtract(base_types)
    lines.append("-- object counts grown since the baseline:")
    lines += [f"{n:+8d} {name}" for name, n in grown.most_common(15)]
    with out.open("a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def watch(out: Path, baseline: float, every: float) -> None:
    """Take the baseline, then a report every ``every`` seconds (a daemon thread)."""
    started = time.monotonic()
    time.sleep(baseline)
    base, base_types = tracemalloc.take_snapshot(), type_counts()
    with out.open("a", encoding="utf-8") as f:
        f.write(f"== baseline {baseline:.0f} s: RSS {rss_mb():.1f} MB, {malloc_mb()}\n")
    while True:
        time.sleep(every)
        report(out, started, base, base_types)


def start(out: Path, baseline: float = 90.0, every: float = 120.0) -> None:
    """Trace allocations from now on and report to ``out`` from a daemon thread."""
    tracemalloc.start(1)
    threading.Thread(target=watch, args=(out, baseline, every), daemon=True).start()


def scrapy(command: list[str]) -> None:
    """Run ``scrapy <command>`` (a leading ``--`` dropped) in this process, from the project."""
    sys.path.insert(0, str(ROOT))
    from scrapy.cmdline import execute

    execute(["scrapy", *(command[1:] if command[:1] == ["--"] else command)])


def main() -> None:
    """Parse our arguments, start the watcher, hand the rest to Scrapy."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--baseline", type=float, default=90.0)
    parser.add_argument("--every", type=float, default=120.0)
    parser.add_argument("scrapy", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    start(args.out, args.baseline, args.every)
    scrapy(args.scrapy)


if __name__ == "__main__":
    main()
