"""The language an article is written in, as an ISO 639-1 code, detected from its text.

py3langid (a maintained fork of langid.py: a naive Bayes model over byte n-grams, numpy only)
reads the text; its model also knows languages that have no two-letter code (``wuu``, ``yue``,
``zxx``…), which it gave to 7 of our 166 Chinese stories, so the model is restricted to the
labels that are ISO 639-1 codes. Measurements and the comparison with lingua are in
``docs/libraries.md``.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

if TYPE_CHECKING:
    from collections.abc import Iterable

#: Fewer letters than this tell no language reliably; a CJK ideograph counts as two, as it
#: carries about what two Latin letters do (``恒大汽车短线下挫`` is as clear as a short sentence).
MIN_LETTERS = 20
#: Characters read at most: the first two thousand decide as well as the whole and cost less.
MAX_CHARS = 2000
_IDEOGRAPH_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@cache
def _identifier() -> LanguageIdentifier:
    """Load the model once, restricted to its ISO 639-1 labels (loading takes about a second)."""
    identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE)
    identifier.set_languages([label for label in identifier.labels if len(label) == 2])
    return identifier


def letter_count(text: str) -> int:
    """Return how many letters (any script) ``text`` holds, a CJK ideograph counting two."""
    return sum(2 if _IDEOGRAPH_RE.match(ch) else 1 for ch in text if ch.isalpha())


def detect_language(parts: Iterable[str | None]) -> str | None:
    """Return the ISO 639-1 code of the language of the given texts (title, body) joined,
    or ``None`` when they hold fewer than :data:`MIN_LETTERS` letters."""
    text = "\n".join(part for part in parts if part)[:MAX_CHARS]
    if letter_count(text) < MIN_LETTERS:
        return None
    label, _ = _identifier().classify(text)
    return str(label)
