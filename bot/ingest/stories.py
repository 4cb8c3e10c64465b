"""Stories: articles from any feeds that report the same event join one story.

Near-copies (``bot.ingest.dedup``) catch one text republished; a story also gathers the
same event told by different writers in their own words. Each article is represented by
the TF-IDF vector of the content words (``summarizer.terms``) of its title and lead (the
first ``lead_words`` content words: where news says what happened); each open story by
the sum of its articles' unit vectors (a centroid). A new article joins the open story
whose centroid is most similar (cosine) if that similarity reaches ``threshold``, else it
starts a story. A story is open to an article published at most ``window`` seconds after
its latest article (or before its first).

Chosen by measurement (``python -m bench stories``, numbers in ``docs/benchmarks.md``): on
a labelled stream of 71 events told by 263 items among 3,834 real feed entries, held-out
B-cubed precision 0.97 and F1 0.96, where near-copy fingerprints alone reach F1 0.43.
Single-link on the same vectors (join the story of the most similar article) scores
within noise of centroids; centroids were kept because one vague article cannot chain
two events through them. The threshold is chosen by cross-validation over events.
Document frequencies come from every article seen in the last ``df_horizon`` seconds, so
a word that is everywhere this week (a war, an election) counts for little.

:class:`StoryIndex` holds that state in memory and is incremental: :meth:`StoryIndex.find`
answers "which story does this article join?" without changing anything, and
:meth:`StoryIndex.add` records the article in a story. Both are pure computations on the
index (no clock, no I/O), cost about the article's terms times the open stories sharing
them, and are deterministic: the same articles in the same order give the same stories.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict, defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from summarizer.terms import content_words

__all__ = ["Match", "StoryIndex", "StoryRules", "best_match", "story_terms"]


@dataclass(frozen=True)
class StoryRules:
    """When an article joins a story.

    Attributes:
        threshold: Least cosine between an article and a story's centroid for it to join
            (chosen by cross-validation over events, see ``python -m bench stories``).
        window: Seconds a story stays open after its latest article (a news cycle of two
            days: a product rule, not tuned).
        lead_words: How many content words of title and text represent an article.
        df_horizon: Seconds of articles that document frequencies are counted over.
        min_terms: Fewest distinct terms an article needs to join a story: two one-word
            headlines ("Update", "Live") say nothing about being one event.
    """

    threshold: float = 0.175
    window: float = 2 * 86400.0
    lead_words: int = 120
    df_horizon: float = 7 * 86400.0
    min_terms: int = 5

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], not {self.threshold}")
        if self.window <= 0 or self.df_horizon <= 0 or self.lead_words < 1:
            raise ValueError("window, df_horizon and lead_words must be positive")


@dataclass(frozen=True)
class Match:
    """The story an article joins and how similar it is to the story's centroid."""

    story_id: int
    similarity: float


def story_terms(title: str, text: str, lead_words: int = StoryRules.lead_words) -> tuple[str, ...]:
    """The terms that represent an article: content words of its title, then its text.

    Args:
        title: The headline ("" if none).
        text: The article's text; only its lead is read.
        lead_words: How many content words to keep.

    Returns:
        At most ``lead_words`` stemmed content words, in order, repeats kept.
    """
    # Stopwords are about half of news prose: reading 3x the words is plenty.
    head = f"{title}\n{_first_words(text, 3 * lead_words)}"
    return tuple(content_words(head)[:lead_words])


def best_match(similarities: Mapping[int, float], threshold: float) -> Match | None:
    """The most similar story if it reaches the threshold (ties: the oldest story id).

    Args:
        similarities: Story id to cosine similarity with the article.
        threshold: Least similarity to join.

    Returns:
        The story to join, or None to start a new one.
    """
    if not similarities:
        return None
    story_id = min(similarities, key=lambda s: (-similarities[s], s))
    similarity = similarities[story_id]
    return Match(story_id, similarity) if similarity >= threshold else None


@dataclass
class _Story:
    """An open story: the sum of its articles' unit vectors, that sum's norm, its times,
    and the time buckets its span covers (none yet: ``first_bucket > last_bucket``)."""

    centroid: dict[str, float] = field(default_factory=dict)
    norm: float = 0.0
    first_seen: float = math.inf
    last_seen: float = -math.inf
    first_bucket: int = 0
    last_bucket: int = -1


# Document frequencies start as if this many articles without the term had been seen, so
# that on a fresh install the first few articles do not make every word they share look
# common (with one article seen, every shared word would); a busy index outgrows it.
_PRIOR_DOCUMENTS = 30
_NO_POSTINGS: dict[int, float] = {}  # never written to: the postings of an unseen term
Postings = dict[tuple[str, int], dict[int, float]]  # (term, bucket) -> story id -> weight
# A time bucket is this many windows wide: a lookup (two windows wide) reads one or two
# buckets. Measured on the corpus feeds: 2 to 16 were within noise; 1 was 13% slower where
# every entry falls in one week (more lookups per term).
_BUCKET_WINDOWS = 4


class _Frequencies:
    """Document frequencies over the articles seen within a time horizon."""

    def __init__(self, horizon: float) -> None:
        self._horizon = horizon
        self._df: Counter[str] = Counter()
        self._seen: deque[tuple[float, frozenset[str]]] = deque()
        self._latest = -math.inf

    def idfs(self, terms: Iterable[str], extra: int = 0) -> list[float]:
        """Smoothed inverse document frequency of each term, counting ``extra`` more
        documents that hold it (the article being weighed)."""
        n = len(self._seen) + extra + _PRIOR_DOCUMENTS + 1
        df, log = self._df, math.log
        return [log(n / (df.get(term, 0) + extra + 0.5)) for term in terms]

    def add(self, terms: frozenset[str], when: float) -> None:
        self._df.update(terms)
        self._seen.append((when, terms))
        self._latest = max(self._latest, when)
        while self._seen and self._seen[0][0] < self._latest - self._horizon:
            _, old = self._seen.popleft()
            self._df.subtract(old)


class StoryIndex:
    """Open stories, searchable by similarity to a new article.

    Postings are kept per term and time bucket (four windows wide), so a lookup
    weighs only the stories whose span reaches the article's window: a cold ingest of feeds
    whose entries span years compares each entry with the few stories open at its time
    (about 9 of the 900 sharing a term with it, on the corpus feeds). A story is listed in
    ``_home`` under its first bucket and in ``_rest`` under each later bucket of its span,
    so a lookup reads ``_rest`` of the window's first bucket and ``_home`` of each of its
    buckets, and meets every open story once. The stories found, and their similarities
    to the last bit, are those of comparing with every story.

    Args:
        rules: Threshold, window and representation.
    """

    def __init__(self, rules: StoryRules = StoryRules()) -> None:
        self.rules = rules
        self._stories: OrderedDict[int, _Story] = OrderedDict()  # least recently joined first
        self._home: Postings = {}
        self._rest: Postings = {}
        self._frequencies = _Frequencies(rules.df_horizon)
        self._latest = -math.inf

    def __len__(self) -> int:
        return len(self._stories)

    def find(self, terms: Sequence[str], published: float) -> Match | None:
        """The open story an article joins, or None if it starts its own; changes nothing.

        Args:
            terms: The article's terms (:func:`story_terms`).
            published: The article's time, epoch seconds.

        Returns:
            The story and the similarity, or None (always for an article with fewer than
            ``min_terms`` distinct terms).
        """
        if len(set(terms)) < self.rules.min_terms:
            return None
        vector = self._vector(terms, extra=1)
        return best_match(self._similarities(vector, published), self.rules.threshold)

    def add(self, story_id: int, terms: Sequence[str], published: float) -> None:
        """Record an article in a story (a new story when the id is not open).

        Args:
            story_id: The story the article belongs to (for a new story, its first
                article's id).
            terms: The article's terms (:func:`story_terms`).
            published: The article's time, epoch seconds.
        """
        self._frequencies.add(frozenset(terms), published)
        vector = self._vector(terms)
        story = self._stories.pop(story_id, None) or _Story()
        self._stories[story_id] = story
        self._span(story_id, story, published)
        self._join(story_id, story, vector)
        self._latest = max(self._latest, published)
        self._close_old()

    def extend(self, articles: Iterable[tuple[int, Sequence[str], float]]) -> None:
        """Add ``(story id, terms, published)`` articles, oldest first (a warm start)."""
        for story_id, terms, published in articles:
            self.add(story_id, terms, published)

    def _vector(self, terms: Sequence[str], extra: int = 0) -> dict[str, float]:
        """The unit TF-IDF vector of an article (sublinear term frequency)."""
        counts = Counter(terms)
        idfs = self._frequencies.idfs(counts, extra)
        log = math.log
        weights = {
            t: (1.0 + log(c)) * idf for (t, c), idf in zip(counts.items(), idfs, strict=True)
        }
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {t: w / norm for t, w in weights.items()} if norm else {}

    def _bucket(self, when: float) -> int:
        return math.floor(when / (_BUCKET_WINDOWS * self.rules.window))

    def _similarities(self, vector: Mapping[str, float], published: float) -> dict[int, float]:
        """Cosine between the vector and every open story sharing a term with it."""
        dots: defaultdict[int, float] = defaultdict(float)
        first = self._bucket(published - self.rules.window)
        buckets = range(first, self._bucket(published + self.rules.window) + 1)
        home, rest = self._home, self._rest
        for term, weight in vector.items():
            # each open story is in exactly one of these (see the class docstring)
            for story_id, centroid_weight in rest.get((term, first), _NO_POSTINGS).items():
                dots[story_id] += weight * centroid_weight
            for bucket in buckets:
                for story_id, centroid_weight in home.get((term, bucket), _NO_POSTINGS).items():
                    dots[story_id] += weight * centroid_weight
        # open: the article is within ``window`` of the story's span (an old article
        # found late does not join today's story)
        stories, window = self._stories, self.rules.window
        return {
            story_id: dot / story.norm
            for story_id, dot in dots.items()
            if (story := stories[story_id]).norm
            and story.first_seen - window <= published <= story.last_seen + window
        }

    def _span(self, story_id: int, story: _Story, published: float) -> None:
        """Widen a story's span to an article's time; list it again if its buckets change
        (rare: most stories live within one bucket)."""
        story.first_seen = min(story.first_seen, published)
        story.last_seen = max(story.last_seen, published)
        first, last = self._bucket(story.first_seen), self._bucket(story.last_seen)
        if (first, last) != (story.first_bucket, story.last_bucket):
            self._unlist(story_id, story)
            story.first_bucket, story.last_bucket = first, last
            for term, weight in story.centroid.items():
                self._list(story_id, story, term, weight)

    def _join(self, story_id: int, story: _Story, vector: Mapping[str, float]) -> None:
        """Add a unit vector to a story's centroid and postings, keeping its norm."""
        squared = story.norm**2
        for term, weight in vector.items():
            before = story.centroid.get(term, 0.0)
            after = before + weight
            story.centroid[term] = after
            self._list(story_id, story, term, after)
            squared += after * after - before * before
        story.norm = math.sqrt(max(squared, 0.0))

    def _list(self, story_id: int, story: _Story, term: str, weight: float) -> None:
        """Set a story's centroid weight for a term in every bucket of its span."""
        self._home.setdefault((term, story.first_bucket), {})[story_id] = weight
        for bucket in range(story.first_bucket + 1, story.last_bucket + 1):
            self._rest.setdefault((term, bucket), {})[story_id] = weight

    def _unlist(self, story_id: int, story: _Story) -> None:
        """Take a story out of every posting list it is in."""
        for bucket in range(story.first_bucket, story.last_bucket + 1):
            postings = self._home if bucket == story.first_bucket else self._rest
            for term in story.centroid:
                listed = postings[term, bucket]
                del listed[story_id]
                if not listed:
                    del postings[term, bucket]

    def _close_old(self) -> None:
        """Forget stories closed for good (least recently joined first)."""
        cutoff = self._latest - self.rules.window
        while self._stories:
            story_id, story = next(iter(self._stories.items()))
            if story.last_seen >= cutoff:
                break
            del self._stories[story_id]
            self._unlist(story_id, story)


def _first_words(text: str, n: int) -> str:
    """The text up to its ``n``-th whitespace-separated word (cheap on long articles)."""
    cut = 0
    for _ in range(n):
        cut = text.find(" ", cut + 1)
        if cut < 0:
            return text
    return text[:cut]
