"""A ``JOBDIR`` whose crawl died is discarded before Scrapy opens it (issue 15, item 1).

The unit tests reconstruct what a dead crawl leaves (a marker naming its holder, nobody holding
its lock: the kernel drops an ``flock`` with its process). The end-to-end tests ``kill -9`` a
real crawl of the local site of :mod:`tests.spiders.test_resume_e2e` and run it again with the
same ``JOBDIR``: before the guard, Scrapy's half-written disk queue made that rerun fail to
push requests (``struct.error``) and crawl almost nothing.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
from typing import TYPE_CHECKING, Any

import pymongo
import pytest
from scrapy.exceptions import NotConfigured

from crawler.extensions.jobdir import (
    JOB_STATE,
    MARKER,
    JobdirGuard,
    JobdirInUse,
    discard_job_state,
)
from tests.conftest import ROOT, make_crawler
from tests.spiders import test_resume_e2e
from tests.spiders.test_resume_e2e import (
    DEADLINE,
    Hold,
    HoldingServer,
    article_number,
    article_path,
    build_site,
    command,
    wait_for,
)

if TYPE_CHECKING:
    from pathlib import Path

DISCARDED = "was left by a crawl that did not stop cleanly"
#: The resume test's site, smaller: three listing pages of twenty articles. Twenty held
#: articles outnumber CONCURRENT_REQUESTS (16): the rest wait in Scrapy's disk queue, in a file
#: the killed process never flushed, which the next run cannot read.
ARTICLES = 60
PER_PAGE = 20
#: Articles stored before the kill: the first page's and some of the second's.
STORED_AT_KILL = 30


def fill_job_state(jobdir: Path) -> None:
    """Leave in ``jobdir`` the files a crawl with a pending queue leaves (contents made up)."""
    (jobdir / "requests.queue").mkdir(parents=True)
    (jobdir / "requests.queue" / "active.json").write_text("[[0, 0]]")
    (jobdir / "requests.seen").write_bytes(b"\x00\x14" + bytes(20))
    (jobdir / "spider.state").write_bytes(b"\x80\x04}\x94.")


def guard(jobdir: Path) -> tuple[JobdirGuard, dict[str, Any]]:
    """Return the guard of a crawl with ``JOBDIR=jobdir`` (built with the crawler's extensions,
    as when a crawl starts) and the crawl's stats."""
    crawler = make_crawler(JOBDIR=str(jobdir))
    extension = crawler.get_extension(JobdirGuard)
    assert extension is not None
    return extension, crawler.stats.get_stats()


def test_not_configured_without_a_jobdir() -> None:
    with pytest.raises(NotConfigured):
        JobdirGuard.from_crawler(make_crawler())


def test_a_new_jobdir_is_marked_as_held_and_cleared_on_close(tmp_path: Path) -> None:
    jobdir = tmp_path / "jobs" / "site"
    extension, stats = guard(jobdir)
    assert (jobdir / MARKER).read_text().startswith(f"pid {os.getpid()}, started ")
    assert "news/jobdir/discarded" not in stats
    extension.spider_closed()
    assert (jobdir / MARKER).read_text() == ""


@pytest.mark.parametrize("marker", [None, ""], ids=["no marker (older release)", "cleared"])
def test_a_jobdir_closed_cleanly_is_resumed(
    tmp_path: Path, marker: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    fill_job_state(tmp_path)
    if marker is not None:
        (tmp_path / MARKER).write_text(marker)
    extension, stats = guard(tmp_path)
    assert all((tmp_path / name).exists() for name in JOB_STATE)
    assert "news/jobdir/discarded" not in stats
    assert DISCARDED not in caplog.text
    extension.spider_closed()


def test_a_jobdir_whose_crawl_died_is_discarded_once_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fill_job_state(tmp_path)
    (tmp_path / "notes.txt").write_text("not Scrapy's")
    (tmp_path / MARKER).write_text("pid 4242, started 2026-05-03T01:02:03+00:00\n")
    extension, stats = guard(tmp_path)
    assert stats["news/jobdir/discarded"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [MARKER, "notes.txt"]
    (warning,) = [r for r in caplog.records if DISCARDED in r.getMessage()]
    assert warning.levelname == "WARNING"
    assert str(tmp_path) in warning.getMessage()
    assert "pid 4242, started 2026-05-03T01:02:03+00:00" in warning.getMessage()
    assert "requests.queue, requests.seen, spider.state" in warning.getMessage()
    extension.spider_closed()

    fill_job_state(tmp_path)  # this crawl's own queue, closed cleanly: the next run resumes it
    resumed, stats = guard(tmp_path)
    assert "news/jobdir/discarded" not in stats
    assert all((tmp_path / name).exists() for name in JOB_STATE)
    resumed.spider_closed()


def test_a_jobdir_held_by_a_running_crawl_is_refused_and_left_alone(tmp_path: Path) -> None:
    running, _ = guard(tmp_path)
    fill_job_state(tmp_path)
    with pytest.raises(JobdirInUse, match=rf"held by a running crawl \(pid {os.getpid()}, "):
        guard(tmp_path)
    assert all((tmp_path / name).exists() for name in JOB_STATE)
    assert (tmp_path / MARKER).read_text().startswith(f"pid {os.getpid()}")
    running.spider_closed()


def test_the_marker_is_locked_while_the_crawl_holds_it(tmp_path: Path) -> None:
    extension, _ = guard(tmp_path)
    with (tmp_path / MARKER).open("a") as other:
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        extension.spider_closed()
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released with the close


def test_discard_job_state_deletes_only_scrapys_files(tmp_path: Path) -> None:
    assert discard_job_state(tmp_path) == []
    fill_job_state(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "requests.seen").unlink()
    (tmp_path / "requests.seen").symlink_to(tmp_path / "elsewhere")
    assert discard_job_state(tmp_path) == list(JOB_STATE)
    assert [p.name for p in tmp_path.iterdir()] == ["elsewhere"]  # a link is not followed


def kill_while_the_last_page_is_held(
    argv: list[str], server: HoldingServer, stored: Any, log: Path
) -> None:
    """Run the crawl; ``kill -9`` it once the last listing page's articles are held unanswered
    and :data:`STORED_AT_KILL` articles are stored."""
    hold = server.hold = Hold(lambda path: (article_number(path) or ARTICLES) <= PER_PAGE)
    with log.open("w") as output:
        process = subprocess.Popen(argv, cwd=ROOT, stdout=output, stderr=output, text=True)
        try:
            wait_for(hold.arrived.is_set, process, "the held articles")
            count = STORED_AT_KILL
            wait_for(lambda: stored.count_documents({}) >= count, process, f"{count} stored")
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
            hold.release.set()


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["crawl", "crawlall"])
def test_a_jobdir_killed_mid_crawl_is_discarded_and_the_rerun_stores_every_article_once(
    kind: str, mongo_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``kill -9`` a crawl with a ``JOBDIR`` while it waits for the last page's articles; the
    rerun with the same ``JOBDIR`` discards it, crawls healthily and stores the rest: all 60,
    each once. Before the guard that rerun failed to queue requests (``struct.error``), crawled
    one request and stored nothing (crawlall: exit 1)."""
    monkeypatch.setattr(test_resume_e2e, "ARTICLES", ARTICLES)
    monkeypatch.setattr(test_resume_e2e, "PER_PAGE", PER_PAGE)
    database = f"jobdir_{kind}"
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri)
    client.drop_database(database)
    stored = client[database]["articles"]
    jobdir = tmp_path / "jobs" / "site"
    jobs = ["-s", f"JOBDIR={jobdir}"] if kind == "crawl" else ["-s", f"NEWS_JOBDIR={jobdir.parent}/{{spider}}"]  # fmt: skip
    argv = [*command(kind, tmp_path, mongo_uri, database), *jobs, "-s", "STATS_DUMP=True"]
    with HoldingServer() as server:
        (tmp_path / "sources.toml").write_text(build_site(server), "utf-8")
        kill_while_the_last_page_is_held(argv, server, stored, tmp_path / "killed.log")
        assert stored.count_documents({}) < ARTICLES
        assert (jobdir / MARKER).read_text().startswith("pid ")  # the dead crawl's
        assert {p.name for p in jobdir.iterdir()} <= {MARKER, *JOB_STATE}
        server.hold = Hold(lambda path: False)
        rerun = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=DEADLINE)
        expected = {server.url(article_path(n)) for n in range(1, ARTICLES + 1)}
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    warnings = [line for line in rerun.stderr.splitlines() if DISCARDED in line]
    assert len(warnings) == 1, warnings
    assert f"WARNING: JOBDIR {jobdir} {DISCARDED}" in warnings[0]
    assert "'news/jobdir/discarded': 1" in rerun.stderr
    assert "struct.error" not in rerun.stderr
    (record,) = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text().splitlines()]
    assert (record["status"], record["finish_reason"]) == ("ok", "finished")
    documents = list(stored.find({}, {"canonical_url": 1, "sightings": 1}))
    assert len(documents) == ARTICLES
    assert {d["canonical_url"] for d in documents} == expected
    assert all(len(d["sightings"]) == 1 for d in documents)
    if kind == "crawl":
        assert (jobdir / MARKER).read_text() == ""  # closed cleanly: the next run resumes it
    else:
        assert not jobdir.exists()  # crawlall removes a finished run's JOBDIR
    client.drop_database(database)
    client.close()
