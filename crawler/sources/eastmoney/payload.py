"""East Money's API bodies decoded: JSON or JSONP, and the error of a response without data."""

from __future__ import annotations

import json
import re
from typing import Any

_JSONP_RE = re.compile(r"^\s*[\w$.]+\s*\((.*)\)\s*;?\s*$", re.DOTALL)


class FeedError(ValueError):
    """A response that holds no usable data; ``reason`` is the stats key (``not_json``…)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def load_payload(text: str, *, check_code: bool = True) -> Any:
    """Decode a list API body (JSON or JSONP); raise :class:`FeedError` when it holds no data."""
    stripped = text.strip()
    if not stripped:
        raise FeedError("empty")
    if stripped.startswith("<"):
        raise FeedError("html", stripped[:80])
    match = _JSONP_RE.match(stripped)
    if match and not stripped.startswith(("{", "[")):
        stripped = match.group(1)
    try:
        payload = json.loads(stripped)
    except ValueError as exc:
        raise FeedError("not_json", str(exc)) from None
    except RecursionError:
        raise FeedError("not_json", "nested too deeply") from None
    if check_code:
        code = payload.get("code") if isinstance(payload, dict) else None
        if str(code) != "1":
            message = payload.get("message") if isinstance(payload, dict) else None
            raise FeedError("api_error", f"code={code!r} message={message!r}")
    return payload


def dig(payload: Any, path: tuple[str, ...]) -> Any:
    """Return ``payload[path[0]][path[1]]…``, or ``None`` where the path breaks."""
    for key in path:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def raw_value(value: Any) -> str | None:
    """Return a payload value as a string (numbers too), ``None`` when absent or blank."""
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None
