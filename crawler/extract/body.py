"""Find the article body: the container collecting the most prose, then strip its noise blocks.

Each block's own paragraph text (text in it and its inline children) is scored by length and
punctuation, minus link text; the score goes to the block's container and half of it one level
further up. The best container, penalised by its link density, is the body.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import TYPE_CHECKING

from crawler.extract.dom import class_and_id, collapse, is_inline, link_density, own_text, squeeze
from crawler.extract.patterns import (
    BODY_BLOCK_TAGS,
    BYLINE_BLOCK_MAX,
    BYLINE_LABEL_RE,
    GRANDPARENT_WEIGHT,
    HEADER_ZONE_CHARS,
    HEADING_RANK,
    HEADLINE_BLOCK_SHARE,
    LEADING_BLOCKS,
    LIST_ITEMS,
    MAX_LINK_DENSITY,
    MIN_ARTICLE_SCORE,
    MIN_PARAGRAPH_CHARS,
    NOISE_HINT_RE,
    NOISE_TEXT_MAX,
    NON_BODY_TAGS,
    PROSE_PUNCTUATION_RATE,
    PUNCTUATION_RE,
    RELATED_HEADING_RE,
)
from crawler.vocabulary import BOILERPLATE_BLOCK, DATETIME_RE

if TYPE_CHECKING:
    from lxml.html import HtmlElement

    from crawler.extract.dom import TextIndex

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


def find_body(
    root: HtmlElement, index: TextIndex | None = None, headline: HtmlElement | None = None
) -> HtmlElement | None:
    """Return the element holding the article body, or None when the page has no prose.

    The best-scoring container wins, unless it is a unit of another kind (another story under
    its own heading, a list of comments or teasers) that starts after the block following the
    headline: then that block is the article (a short story beside a long neighbour).
    """
    scores = score_containers(root)
    candidates = [
        (score, element)
        for element, score in scores.items()
        if element.tag not in ("html", "body") and not is_noise_container(element)
    ]
    ranked = sorted(candidates, key=lambda pair: pair[0], reverse=True)[:TOP_CANDIDATES]
    if not ranked:
        return None
    penalised = [
        (score * (1 - link_density(element)), depth(element), element) for score, element in ranked
    ]
    best_score, _, best = max(penalised, key=lambda item: (round(item[0], 6), item[1]))
    follower = headline_block(candidates, index, headline, best)
    if (
        follower is not None
        and follows(best, follower[1], index)
        and follower[0] >= max(MIN_ARTICLE_SCORE, HEADLINE_BLOCK_SHARE * best_score)
        and is_other_unit(best, headline)
    ):
        # Not widened: its parent also holds the neighbour it was chosen over.
        logger.debug("short article beside a longer <%s>: keeping the headline's block", best.tag)
        return follower[1]
    return widen_to_siblings(best, scores)


def headline_block(
    candidates: list[tuple[float, HtmlElement]],
    index: TextIndex | None,
    headline: HtmlElement | None,
    best: HtmlElement,
) -> tuple[float, HtmlElement] | None:
    """Return the best container (penalised score, element) starting just after the headline,
    other than `best` and its ancestors."""
    span = index.span(headline) if index is not None else None
    if index is None or span is None:
        return None
    end = span[1]
    ancestors = {best, *best.iterancestors()}
    near = []
    for score, element in candidates:
        start = index.span(element)
        if (
            element not in ancestors
            and start is not None
            and end <= start[0] <= end + HEADER_ZONE_CHARS
        ):
            near.append((score * (1 - link_density(element)), element))
    return max(near, key=lambda pair: pair[0], default=None)


def follows(later: HtmlElement, earlier: HtmlElement, index: TextIndex | None) -> bool:
    """Tell whether `later`'s text starts after `earlier`'s ends (neither holds the other)."""
    if index is None:
        return False
    later_span, earlier_span = index.span(later), index.span(earlier)
    return later_span is not None and earlier_span is not None and later_span[0] >= earlier_span[1]


def is_other_unit(element: HtmlElement, headline: HtmlElement | None) -> bool:
    """Tell whether a container is a unit of its own: opened by a heading other than the
    page's headline (another story), or a list of many same-tag items holding text."""
    for child in element.iter():
        if child is element or not isinstance(child.tag, str):
            continue
        if child.text_content().strip():
            if child.tag in HEADING_RANK and child is not headline:
                return True
            break
    previous = element.getprevious()
    if previous is not None and RELATED_HEADING_RE.match(squeeze(previous.text_content())):
        return True
    tags = [
        child.tag
        for child in element
        if isinstance(child.tag, str)
        and child.tag not in ("p", "br")
        and child.text_content().strip()
    ]
    return any(tags.count(tag) >= LIST_ITEMS for tag in set(tags))


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
    """Remove noise blocks from the body in place: a byline among its first blocks, what follows
    a related-stories heading, then share bars, link lists, credits and the like."""
    drop_leading_byline(body)
    drop_related(body)
    pending = list(body)
    while pending:
        element = pending.pop()
        if not isinstance(element.tag, str):
            continue
        if is_noise_block(element, headline):
            element.drop_tree()
        else:
            pending.extend(element)


def text_blocks(body: HtmlElement) -> list[HtmlElement]:
    """Return the body's innermost blocks holding text, in document order."""
    return [
        element
        for element in body.iter()
        if element is not body
        and isinstance(element.tag, str)
        and not is_inline(element)
        and own_text(element)[0]
    ]


def is_byline(text: str) -> bool:
    """Tell whether a short text is a byline: a printed time beside a labelled field."""
    return (
        len(text) <= BYLINE_BLOCK_MAX
        and DATETIME_RE.search(text) is not None
        and BYLINE_LABEL_RE.search(text) is not None
    )


def drop_leading_byline(body: HtmlElement) -> None:
    """Drop a byline printed among the body's first blocks (the container also held the header)."""
    for block in text_blocks(body)[:LEADING_BLOCKS]:
        if is_byline(collapse(block.text_content())):
            logger.debug("byline inside the body: dropped")
            block.drop_tree()
            return


def drop_related(body: HtmlElement) -> None:
    """Drop a related-stories heading and everything after it in the body."""
    for block in text_blocks(body):
        if RELATED_HEADING_RE.match(squeeze(block.text_content())):
            break
    else:
        return
    logger.debug("related stories after the article: dropped")
    element = block
    while element is not body and element.getparent() is not None:
        for sibling in list(element.itersiblings()):
            element.getparent().remove(sibling)
        element.tail = None
        element = element.getparent()
    block.drop_tree()
