"""Generic article extraction (title, time, source, authors, body) for pages without a parser."""

from __future__ import annotations

from crawler.extract.encoding import decode_body, detect_encoding
from crawler.extract.extractor import ExtractedArticle, extract_article, extract_from_response

__all__ = [
    "ExtractedArticle",
    "decode_body",
    "detect_encoding",
    "extract_article",
    "extract_from_response",
]
