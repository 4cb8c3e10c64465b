"""The offline summarizer: picks an article's most telling sentences, in article order.

News puts what matters first, names people and places, and gives numbers; the scoring
follows that. Each sentence gets points for its position (the lead), its centrality (the
cosine between its words and the article's TF-IDF centroid over sentences) and its density
of names and numbers; sentences that cannot stand alone (a quote cut in half, a question,
a fragment) lose half their points per flaw. Selection is greedy, skips sentences that
repeat one already chosen, and stops once the summary has two sentences and reaches the
target length, never passing ``max_chars``.

Every number that scoring and selection use is a field of :class:`Tuning`, and every
default there was chosen by 5-fold cross-validation over the human summaries of
``../shared/corpus/summaries/dev.jsonl`` (``python -m bench summaries``; held-out scores
in ``docs/benchmarks.md``). The headline is not a scoring feature: the dev articles carry
none, so its weight could not be cross-validated; a sentence that repeats the headline is
still left out, since the post shows the headline already.

The scoring is pure and deterministic; the async methods run it in a worker thread.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from summarizer.base import Document, Summary
from summarizer.sentences import Sentence, is_terminated, segment
from summarizer.terms import overlap, term_set

__all__ = ["DEFAULT_MAX_CHARS", "ExtractiveSummarizer", "Tuning"]

# The product's hard limit (NEWSBRIEF_SUMMARY_CHARS); the summary usually stops earlier, at
# the cross-validated target length.
DEFAULT_MAX_CHARS = 450


_CLOSING_MARKS = "\"'”’»)]"
# A name is a capitalised word after the first; a number is a run of digits ("3.5", "1,200").
# Sentences come with single spaces, so a name starts after " ".
_NAME = re.compile(r" [A-ZÀ-ÖØ-Þ]")
_NUMBER = re.compile(r"\d[\d.,]*")
_ENTITY_SMOOTHING = 6  # extra words in the denominator: short lists of names are no news
# Rules, not tuned weights: a flaw halves a sentence's score (on the dev set the factor
# changes no score between 0.3 and 1.0, the splitter already drops most fragments: it is
# there for readability), a headline is not said twice, and topic summaries favour the
# reader's words (no data to tune topic summaries on).
_FLAW = 0.5
_SAME_AS_TITLE = 0.9  # cosine above which a sentence is the headline again
_W_TOPIC = 0.5
_MAX_SENTENCES = 3
_TOPIC_PER_DOC = 2  # a topic summary takes at most this many sentences from one article
_TOPIC_LEAD = 12  # and looks only at each article's first sentences, where news is
_TOPIC_WEAKEST = 0.4  # and adds no sentence scoring under this share of the best one


@dataclass(frozen=True)
class Tuning:
    """The extractive summarizer's settings: the four levers news summaries have, plus one.

    The defaults are the setting chosen by 5-fold cross-validation on the dev set
    (``python -m bench summaries`` prints the grid, the choice of each fold and the
    held-out scores).

    Attributes:
        position_decay: Sentence ``k`` earns ``exp(-k / position_decay)`` for its place.
        centrality: Weight of the cosine to the article's TF-IDF centroid.
        entities: Weight of the density of names and numbers.
        redundancy: Cosine above which a sentence repeats one already chosen.
        target_chars: The summary stops growing once it has two sentences and this many
            characters.
    """

    position_decay: float = 3.0
    centrality: float = 0.5
    entities: float = 1.0
    redundancy: float = 0.7
    target_chars: int = 250


@dataclass(frozen=True)
class _Candidate:
    """A sentence with its set of terms and its score, ready for selection."""

    sentence: Sentence
    terms: frozenset[str]
    score: float
    doc: int = 0


@dataclass(frozen=True)
class _Centroid:
    """What a text keeps coming back to: each term's frequency times its rarity (TF-IDF
    over sentences), and the length of that vector."""

    weights: dict[str, float]
    norm: float


@dataclass(frozen=True)
class _Limits:
    """How much one selection may take."""

    max_chars: int
    target_chars: int
    max_sentences: int
    per_doc: int
    weakest: float = 0.0  # a sentence scoring under this share of the best is never added


class ExtractiveSummarizer:
    """Summarizes articles by choosing 2-3 of their sentences; no network, no model.

    Args:
        max_chars: Hard limit on an article summary's length in characters.
        tuning: Scoring and selection settings (the cross-validated ones by default).
        topic_max_chars: Hard limit on a topic summary's length.
        topic_sentences: Most sentences in a topic summary.

    Raises:
        ValueError: If a limit is not positive.
    """

    def __init__(
        self,
        *,
        max_chars: int = DEFAULT_MAX_CHARS,
        tuning: Tuning = Tuning(),
        topic_max_chars: int = 900,
        topic_sentences: int = 5,
    ) -> None:
        if min(max_chars, tuning.target_chars, topic_max_chars, topic_sentences) <= 0:
            raise ValueError("summary limits must be positive")
        self._max_chars = max_chars
        self._tuning = tuning
        self._topic_max_chars = topic_max_chars
        self._topic_sentences = topic_sentences

    @property
    def key(self) -> str:
        """Names this summarizer and its scoring version for caches."""
        return "extractive-2"

    async def aclose(self) -> None:
        """Release nothing: present so every summarizer can be closed alike."""

    async def summarize(self, doc: Document) -> Summary:
        """Summarize one article in a worker thread.

        Args:
            doc: The article.

        Returns:
            A summary with ``method="extractive"``; empty for an article without sentences.
        """
        return await asyncio.to_thread(self.summarize_text, doc.title, doc.text)

    async def summarize_topic(self, topic: str, docs: Sequence[Document]) -> Summary:
        """Summarize several articles on one topic in a worker thread.

        Args:
            topic: The words the reader asked about.
            docs: The selected articles, best first.

        Returns:
            A summary whose ``cites`` give, per sentence, the index of the document it
            came from, then of every other document that says it again.
        """
        return await asyncio.to_thread(self.summarize_topic_text, topic, tuple(docs))

    def summarize_text(self, title: str, text: str, max_chars: int | None = None) -> Summary:
        """Summarize one article (the pure core of :meth:`summarize`).

        Args:
            title: The article's headline ("" if unknown).
            text: The article's plain text.
            max_chars: Overrides the configured hard limit for this call.

        Returns:
            A summary of 2-3 sentences in article order, at most ``max_chars`` long.
        """
        limit = max_chars or self._max_chars
        candidates = _score_article(title, segment(text), self._tuning)
        target = min(self._tuning.target_chars, limit)
        chosen = _select(
            candidates, _Limits(limit, target, _MAX_SENTENCES, _MAX_SENTENCES), self._tuning
        )
        if not chosen and candidates:
            best = max(candidates, key=lambda c: c.score).sentence.text
            return _summary((_truncate(best, limit),))
        return _summary(tuple(c.sentence.text for c in _in_article_order(chosen)))

    def summarize_topic_text(self, topic: str, docs: Sequence[Document]) -> Summary:
        """Summarize several articles together (the pure core of :meth:`summarize_topic`).

        Args:
            topic: The words the reader asked about.
            docs: The selected articles, best first.

        Returns:
            The best non-redundant sentences across articles, grouped by article in the
            given order, each cited by its document index.
        """
        candidates = _score_topic(topic, docs, self._tuning)
        limit = self._topic_max_chars
        limits = _Limits(limit, limit, self._topic_sentences, _TOPIC_PER_DOC, _TOPIC_WEAKEST)
        ordered = _in_article_order(_select(candidates, limits, self._tuning))
        sentences = tuple(c.sentence.text for c in ordered)
        cites = tuple(_sources(c, candidates, self._tuning.redundancy) for c in ordered)
        return _summary(sentences, cites=cites)


def _sources(
    chosen: _Candidate, candidates: Sequence[_Candidate], threshold: float
) -> tuple[int, ...]:
    """The documents a chosen sentence rests on: its own, then every other one that says
    it again (a sentence repeating it, by the same cosine that keeps repeats out)."""
    others = {
        c.doc
        for c in candidates
        if c.doc != chosen.doc and overlap(c.terms, chosen.terms) > threshold
    }
    return (chosen.doc, *sorted(others))


def _summary(sentences: tuple[str, ...], cites: tuple[tuple[int, ...], ...] = ()) -> Summary:
    """Build an extractive :class:`Summary` from chosen sentences."""
    return Summary(" ".join(sentences), sentences, "extractive", cites=cites)


def _score_article(title: str, sentences: Sequence[Sentence], tuning: Tuning) -> list[_Candidate]:
    """Score an article's sentences; sentences that repeat the headline are left out."""
    term_sets = [term_set(s.text) for s in sentences]
    centroid = _centroid(term_sets)
    title_terms = term_set(title)
    return [
        _Candidate(sentence, terms, _score(sentence, terms, centroid, tuning))
        for sentence, terms in zip(sentences, term_sets, strict=True)
        if overlap(terms, title_terms) <= _SAME_AS_TITLE
    ]


def _score_topic(topic: str, docs: Sequence[Document], tuning: Tuning) -> list[_Candidate]:
    """Score the lead sentences of every document against one shared vocabulary.

    Centrality is taken against all documents together, so facts several outlets report
    rise; sentences that use the reader's words rise too.
    """
    flat = [(i, s) for i, doc in enumerate(docs) for s in segment(doc.text)[:_TOPIC_LEAD]]
    term_sets = [term_set(s.text) for _, s in flat]
    centroid = _centroid(term_sets)
    topic_terms = term_set(topic)
    return [
        _Candidate(s, terms, _topic_score(s, terms, centroid, topic_terms, tuning), doc=i)
        for (i, s), terms in zip(flat, term_sets, strict=True)
    ]


def _topic_score(
    sentence: Sentence,
    terms: frozenset[str],
    centroid: _Centroid,
    topic: frozenset[str],
    tuning: Tuning,
) -> float:
    """Score one sentence of a topic summary: its article score plus the reader's words."""
    relevance = _W_TOPIC * overlap(terms, topic) * _standalone_factor(sentence)
    return _score(sentence, terms, centroid, tuning) + relevance


def _score(sentence: Sentence, terms: frozenset[str], centroid: _Centroid, tuning: Tuning) -> float:
    """Score one sentence: lead position, centrality, names and numbers."""
    score = (
        math.exp(-sentence.position / tuning.position_decay)
        + tuning.centrality * _centrality(terms, centroid)
        + tuning.entities * _entity_density(sentence.text)
    )
    return score * _standalone_factor(sentence)


def _standalone_factor(sentence: Sentence) -> float:
    """Discount sentences that read badly out of context, by half per flaw."""
    flaws = (
        not sentence.balanced,  # half a quotation
        sentence.text.rstrip(_CLOSING_MARKS).endswith("?"),  # a question tells nothing
        sentence.text.count(" ") < 5,  # too short to carry a fact
        not is_terminated(sentence.text),  # mostly captions and teasers
    )
    return _FLAW ** sum(flaws)


def _entity_density(text: str) -> float:
    """Names (capitalised words after the first) and numbers per word."""
    words = text.count(" ") + 1
    entities = len(_NAME.findall(text)) + len(_NUMBER.findall(text))
    return entities / (words + _ENTITY_SMOOTHING)


def _select(candidates: Sequence[_Candidate], limits: _Limits, tuning: Tuning) -> list[_Candidate]:
    """Pick the best-scoring sentences that fit, skipping repeats of chosen ones.

    Stops once two sentences are chosen and they reach ``limits.target_chars``.
    """
    chosen: list[_Candidate] = []
    used = 0
    ranked = sorted(candidates, key=lambda c: (-c.score, c.doc, c.sentence.position))
    floor = ranked[0].score * limits.weakest if ranked else 0.0
    for cand in ranked:
        if len(chosen) >= limits.max_sentences or cand.score < floor:
            break
        if len(chosen) >= 2 and used >= limits.target_chars:
            break
        cost = len(cand.sentence.text) + (1 if chosen else 0)
        if used + cost > limits.max_chars or _is_redundant(cand, chosen, tuning.redundancy):
            continue
        if sum(1 for c in chosen if c.doc == cand.doc) >= limits.per_doc:
            continue
        chosen.append(cand)
        used += cost
    return chosen


def _is_redundant(cand: _Candidate, chosen: Sequence[_Candidate], threshold: float) -> bool:
    """Tell whether a candidate mostly repeats a sentence already chosen."""
    return any(overlap(cand.terms, c.terms) > threshold for c in chosen)


def _in_article_order(chosen: Sequence[_Candidate]) -> list[_Candidate]:
    """Order sentences by document, then by their place in it."""
    return sorted(chosen, key=lambda c: (c.doc, c.sentence.position))


def _truncate(text: str, limit: int) -> str:
    """Cut text at a word boundary to fit ``limit`` characters, marking the cut."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)].rsplit(" ", 1)[0].rstrip(",;:—–- ")
    return f"{cut}…"


def _centroid(term_sets: Sequence[frozenset[str]]) -> _Centroid:
    """Weigh each term by the number of sentences using it times its inverse document
    frequency over sentences: common enough to be the subject, rare enough to say
    something."""
    df = Counter(itertools.chain.from_iterable(term_sets))
    n = len(term_sets)
    # Document frequencies are a handful of small numbers: weigh each once, not per term.
    weight_of = {c: c * math.log((n + 1) / (c + 0.5)) for c in set(df.values())}
    weights = {t: weight_of[c] for t, c in df.items()}
    norm = math.sqrt(sum(weight_of[c] ** 2 * k for c, k in Counter(df.values()).items()))
    return _Centroid(weights, norm)


def _centrality(terms: frozenset[str], centroid: _Centroid) -> float:
    """Cosine between a sentence's terms (as a 0/1 vector) and the centroid."""
    if not terms or not centroid.norm:
        return 0.0
    mass = sum(map(centroid.weights.__getitem__, terms))
    return mass / (math.sqrt(len(terms)) * centroid.norm)
