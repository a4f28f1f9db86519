"""Find the article body: the container collecting the most prose, then strip its noise blocks.

Each block's own paragraph text (text in it and its inline children) is scored by length and
punctuation, minus link text; the score goes to the block's container and half of it one level
further up. The best container, penalised by its link density, is the body.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import TYPE_CHECKING

from crawler.extract.dom import class_and_id, is_inline, link_density, own_text, squeeze
from crawler.extract.patterns import (
    BODY_BLOCK_TAGS,
    GRANDPARENT_WEIGHT,
    MAX_LINK_DENSITY,
    MIN_PARAGRAPH_CHARS,
    NOISE_HINT_RE,
    NOISE_TEXT_MAX,
    NON_BODY_TAGS,
    PROSE_PUNCTUATION_RATE,
    PUNCTUATION_RE,
)
from crawler.vocabulary import BOILERPLATE_BLOCK

if TYPE_CHECKING:
    from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

# Paragraph-like blocks pass their score up; other blocks holding text also keep it themselves.
PARAGRAPH_TAGS = frozenset("p li dd dt blockquote pre h1 h2 h3 h4 h5 h6 figcaption".split())
# A parent whose score reaches this share of the best child's holds a split body.
SPLIT_BODY_SHARE = 0.75
# Only the best few raw candidates get the (costlier) link density penalty.
TOP_CANDIDATES = 8


def paragraph_score(element: HtmlElement) -> float:
    """Score an element's own paragraph: prose chars and punctuation, links excluded."""
    text, links = own_text(element)
    if len(text) < MIN_PARAGRAPH_CHARS or len(links) > MAX_LINK_DENSITY * len(text):
        return 0.0
    punctuation = len(PUNCTUATION_RE.findall(text))
    # Prose is punctuated; keyword dumps and menus are not, however long they are.
    prose_weight = min(1.0, (punctuation + 1) / (1 + PROSE_PUNCTUATION_RATE * len(text)))
    return (len(text) - len(links)) * prose_weight + 3 * punctuation


def is_noise_container(element: HtmlElement) -> bool:
    """Tell whether an element is structurally never article text."""
    return element.tag in NON_BODY_TAGS or bool(NOISE_HINT_RE.search(class_and_id(element)))


def score_containers(root: HtmlElement) -> dict[HtmlElement, float]:
    """Credit each paragraph's score to its container (and half to the container's parent)."""
    scores: dict[HtmlElement, float] = defaultdict(float)
    for element in root.iter():
        if not isinstance(element.tag, str) or is_inline(element):
            continue
        score = paragraph_score(element)
        if not score:
            continue
        if element.tag not in PARAGRAPH_TAGS:
            scores[element] += score
        parent = element.getparent()
        if parent is not None:
            scores[parent] += score
            grandparent = parent.getparent()
            if grandparent is not None:
                scores[grandparent] += GRANDPARENT_WEIGHT * score
    return scores


def depth(element: HtmlElement) -> int:
    """Return how deep an element sits in its tree."""
    return sum(1 for _ in element.iterancestors())


def find_body(root: HtmlElement) -> HtmlElement | None:
    """Return the element holding the article body, or None when the page has no prose."""
    scores = score_containers(root)
    ranked = sorted(
        (
            (score, element)
            for element, score in scores.items()
            if element.tag not in ("html", "body") and not is_noise_container(element)
        ),
        key=lambda pair: pair[0],
        reverse=True,
    )[:TOP_CANDIDATES]
    if not ranked:
        return None
    penalised = [
        (score * (1 - link_density(element)), depth(element), element) for score, element in ranked
    ]
    best = max(penalised, key=lambda item: (round(item[0], 6), item[1]))[2]
    return widen_to_siblings(best, scores)


def widen_to_siblings(best: HtmlElement, scores: dict[HtmlElement, float]) -> HtmlElement:
    """Return the parent instead when sibling blocks hold a comparable share of the prose.

    The parent receives half of each child container's paragraphs; it reaches SPLIT_BODY_SHARE of
    the best score only when the best container holds but part of the article (split bodies).
    """
    parent = best.getparent()
    if (
        parent is not None
        and parent.tag not in ("html", "body")
        and not is_noise_container(parent)
        and scores.get(parent, 0.0) >= SPLIT_BODY_SHARE * scores[best]
        and link_density(parent) <= MAX_LINK_DENSITY / 2
    ):
        logger.debug("body split over siblings: widening to <%s>", parent.tag)
        return parent
    return best


def is_noise_block(element: HtmlElement, headline: HtmlElement | None) -> bool:
    """Tell whether a block inside the body is noise: share bars, link lists, credits, the title."""
    if element is headline or is_noise_container(element):
        return True
    text = squeeze(element.text_content())
    if not text:
        return False
    if element.tag in BODY_BLOCK_TAGS and link_density(element) > MAX_LINK_DENSITY:
        return True
    return len(text) <= NOISE_TEXT_MAX and bool(BOILERPLATE_BLOCK.search(text))


def clean_body(body: HtmlElement, headline: HtmlElement | None) -> None:
    """Remove noise blocks from the body in place."""
    pending = list(body)
    while pending:
        element = pending.pop()
        if not isinstance(element.tag, str):
            continue
        if is_noise_block(element, headline):
            element.drop_tree()
        else:
            pending.extend(element)
