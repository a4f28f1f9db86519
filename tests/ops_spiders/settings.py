"""Project settings for the subprocess crawls of the operations tests."""

from crawler.settings import *  # noqa: F403

SPIDER_MODULES = ["tests.ops_spiders.spiders"]
NEWSPIDER_MODULE = "tests.ops_spiders.spiders"
# The test spiders yield finished items; storage is not these tests' business.
ITEM_PIPELINES: dict[str, int] = {}
EXTENSIONS = {
    **globals().get("EXTENSIONS", {}),
    "scrapy.extensions.logstats.LogStats": None,
    "crawler.extensions.progress.ProgressLog": 0,
    "crawler.extensions.runs.RunRecorder": 100,
    "tests.ops_spiders.statsdump.StatsDump": 1000,
}
NEWS_RUNS_MONGO = False
ROBOTSTXT_OBEY = False
AUTOTHROTTLE_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
# Whatever the project's operations defaults, these crawls run fast, with what each test sets.
DOWNLOAD_DELAY = 0
HTTPCACHE_ENABLED = False
NEWS_JOBDIR = ""
NEWS_RUNS_FILE = ""
NEWS_CRAWLALL_SPIDERS = ""
LOG_FILE = None
