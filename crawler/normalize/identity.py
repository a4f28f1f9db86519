"""Identity: canonical URL and the stable ``_id`` of an article."""

from __future__ import annotations

import hashlib
import re

from w3lib.url import canonicalize_url, url_query_cleaner

# Query parameters that only track a visit; they never change the article.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id",
        "spm", "from", "share_token", "share_from", "sharefrom", "isappinstalled", "scene",
        "srcid", "fr", "req_trace", "wfr", "tt_from",
        "fbclid", "gclid", "mc_cid", "mc_eid",
    }
)  # fmt: skip
_TRACKING_PREFIX = re.compile(r"^(utm_|share_)")


def canonicalize(url: str) -> str | None:
    """Return ``url`` canonicalised (sorted query, no fragment, no tracking parameters).

    Returns ``None`` for anything that is not an absolute http(s) URL.
    """
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")):
        return None
    try:
        # Without a query, cleaning it would only cut the fragment off.
        cleaned = (
            url_query_cleaner(
                url,
                parameterlist=[p for p in _query_keys(url) if _is_tracking(p)],
                remove=True,
                keep_fragments=False,
            )
            if "?" in url
            else url.partition("#")[0]
        )
        canonical = canonicalize_url(cleaned, keep_fragments=False)
    except ValueError:  # "http://[::1/a": not a URL at all
        return None
    scheme, sep, rest = canonical.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme}{sep}{host.lower()}{slash}{path}"


def _query_keys(url: str) -> list[str]:
    """Return the parameter names of ``url``'s query string."""
    query = url.partition("?")[2].partition("#")[0]
    return [part.partition("=")[0] for part in query.split("&") if part]


def _is_tracking(name: str) -> bool:
    """Tell whether a query parameter only tracks the visit."""
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or bool(_TRACKING_PREFIX.match(lowered))


def article_id(source: str | None, native_id: str | None, canonical_url: str | None) -> str | None:
    """Return the stable id: ``<source>:<native id>``, else ``url:<sha1 of canonical URL>``."""
    if source and native_id and native_id.strip():
        return f"{source}:{native_id.strip()}"
    if canonical_url:
        return "url:" + hashlib.sha1(canonical_url.encode("utf-8")).hexdigest()
    return None
