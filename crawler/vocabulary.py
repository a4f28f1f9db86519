"""Chinese news conventions, once: the words, patterns and limits every reader of a page shares.

The generic extractor (:mod:`crawler.extract`) and the normalisers (:mod:`crawler.normalize`)
both read this module; nothing here names a site.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

# ----------------------------------------------------------------------------- time
# The zone of every source that prints times without one (all Chinese sources do).
CHINA_ZONE_NAME = "Asia/Shanghai"
CHINA_TZ = ZoneInfo(CHINA_ZONE_NAME)
