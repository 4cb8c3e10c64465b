"""Story clustering: same event joins, different events stay apart, stories close in time."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import stories_before as before
from bot.ingest.stories import (
    Match,
    StoryIndex,
    StoryRules,
    _first_words,
    best_match,
    story_terms,
)
from summarizer.terms import content_words, stem, term_set
from tests.bot.ingest.corpus_entries import corpus_entries

HOUR = 3600.0

QUAKE_A = (
    "Earthquake kills dozens in central Chile",
    "A magnitude 7.1 earthquake struck central Chile near Talca on Tuesday, killing at "
    "least 34 people and destroying hundreds of homes, the interior ministry said.",
)
QUAKE_B = (
    "Chile quake: death toll rises in Talca",
    "Rescuers in Talca searched collapsed homes after Tuesday's 7.1 magnitude earthquake in "
    "central Chile; officials said the death toll had risen to 34.",
)
BUDGET = (
    "Germany agrees 2026 budget after coalition talks",
    "The German coalition agreed a budget for 2026 on Friday, raising defence spending and "
    "cutting subsidies for electric cars, the finance minister told reporters in Berlin.",
)
FLOODS = (
    "Floods close schools across Valencia",
    "Heavy rain flooded streets in Valencia and closed schools on Monday, Spanish weather "
    "officials said, warning of more storms along the eastern coast this week.",
)


def _terms(article: tuple[str, str]) -> tuple[str, ...]:
    return story_terms(*article)


def _index(*articles: tuple[int, tuple[str, str], float]) -> StoryIndex:
    """An index holding the given (story id, article, time) triples."""
    index = StoryIndex()
    for story_id, article, when in articles:
        index.add(story_id, _terms(article), when)
    return index


def test_same_event_in_other_words_joins_the_story() -> None:
    """A second outlet's report of the same quake joins the first one's story."""
    index = _index((1, QUAKE_A, 0.0), (2, BUDGET, 0.0), (3, FLOODS, 0.0))
    match = index.find(_terms(QUAKE_B), 2 * HOUR)
    assert match is not None and match.story_id == 1
    assert 0.175 <= match.similarity <= 1.0


def test_different_event_starts_its_own_story() -> None:
    """A report of another event joins none of the open stories."""
    index = _index((1, QUAKE_A, 0.0), (3, FLOODS, 0.0))
    assert index.find(_terms(BUDGET), HOUR) is None


def test_story_closes_after_its_window() -> None:
    """Two days after its latest article a story takes no new ones, and is forgotten."""
    rules = StoryRules(window=48 * HOUR)
    index = StoryIndex(rules)
    index.add(1, _terms(QUAKE_A), 0.0)
    assert index.find(_terms(QUAKE_B), 47 * HOUR) is not None
    assert index.find(_terms(QUAKE_B), 49 * HOUR) is None
    index.add(2, _terms(BUDGET), 49 * HOUR)
    assert len(index) == 1


def test_an_old_article_found_late_does_not_join_a_new_story() -> None:
    """An article published long before a story began starts its own."""
    index = _index((1, QUAKE_A, 30 * 86400.0))
    assert index.find(_terms(QUAKE_B), 0.0) is None
    assert index.find(_terms(QUAKE_B), 30 * 86400.0 - HOUR) is not None


def test_a_new_article_keeps_its_story_open() -> None:
    """Each article joining a story moves its window on."""
    index = _index((1, QUAKE_A, 0.0), (1, QUAKE_B, 40 * HOUR))
    assert index.find(_terms(QUAKE_A), 80 * HOUR) == index.find(_terms(QUAKE_A), 41 * HOUR)
    assert index.find(_terms(QUAKE_A), 80 * HOUR) is not None


def test_find_changes_nothing() -> None:
    """Asking twice gives the same answer, and asking adds no story."""
    index = _index((1, QUAKE_A, 0.0), (2, BUDGET, 0.0))
    first = index.find(_terms(QUAKE_B), HOUR)
    assert index.find(_terms(QUAKE_B), HOUR) == first
    assert len(index) == 2


def test_empty_index_and_empty_article_join_nothing() -> None:
    """No stories, or an article without words, gives no match."""
    assert StoryIndex().find(_terms(QUAKE_A), 0.0) is None
    assert _index((1, QUAKE_A, 0.0)).find((), 0.0) is None


def test_terms_are_the_title_then_the_lead() -> None:
    """Title words come first, stopwords go, and the lead is cut at ``lead_words``."""
    terms = story_terms("Quake hits Chile", "The quake struck Talca on Tuesday.", 4)
    assert terms == ("quake", "hits", "chile", "quake")
    assert story_terms("", "Floods closed the schools.") == ("flood", "clos", "school")


def test_too_few_words_join_nothing() -> None:
    """Two near-empty items sharing their one word are not one event."""
    index = StoryIndex()
    index.add(1, story_terms("Live updates", ""), 0.0)
    assert index.find(story_terms("Live updates", ""), HOUR) is None


def test_best_match_prefers_the_most_similar_then_the_oldest() -> None:
    """The highest similarity wins; ties go to the lower (older) story id."""
    assert best_match({5: 0.3, 2: 0.3, 9: 0.1}, 0.2) == Match(2, 0.3)
    assert best_match({5: 0.1}, 0.2) is None
    assert best_match({}, 0.2) is None


@pytest.mark.parametrize(
    "kwargs",
    [{"threshold": 0.0}, {"threshold": 1.5}, {"window": 0.0}, {"lead_words": 0}],
)
def test_rules_refuse_nonsense(kwargs: dict[str, float]) -> None:
    """A threshold outside (0, 1] or a non-positive window or lead is refused."""
    with pytest.raises(ValueError):
        StoryRules(**kwargs)  # type: ignore[arg-type]


_WORDS = st.sampled_from(
    ["quake", "chile", "talca", "budget", "berlin", "floods", "valencia", "schools", "rain"]
)
_ARTICLE = st.tuples(
    st.lists(_WORDS, max_size=30).map(" ".join), st.floats(min_value=0, max_value=10 * 86400)
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_ARTICLE, max_size=25))
def test_any_stream_joins_only_open_stories_it_has_seen(stream: list[tuple[str, float]]) -> None:
    """Whatever arrives, a match names a story added before, within the window, at a
    similarity between the threshold and 1."""
    rules = StoryRules()
    index = StoryIndex(rules)
    last_seen: dict[int, float] = {}
    for n, (text, when) in enumerate(stream):
        terms = story_terms("", text)
        match = index.find(terms, when)
        if match is not None:
            assert match.story_id in last_seen
            assert when - last_seen[match.story_id] <= rules.window + 1e-6
            assert rules.threshold <= match.similarity <= 1.0 + 1e-9
        story = match.story_id if match else n
        index.add(story, terms, when)
        last_seen[story] = max(last_seen.get(story, when), when)


@settings(max_examples=30, deadline=None)
@given(st.lists(_ARTICLE, max_size=20))
def test_same_stream_same_stories(stream: list[tuple[str, float]]) -> None:
    """Clustering is deterministic: the same articles in the same order, the same stories."""

    def run() -> list[int]:
        index, stories = StoryIndex(), []
        for n, (text, when) in enumerate(stream):
            match = index.find(story_terms("", text), when)
            stories.append(match.story_id if match else n)
            index.add(stories[-1], story_terms("", text), when)
        return stories

    assert run() == run()


_SPREAD = st.tuples(
    st.lists(_WORDS, min_size=5, max_size=30).map(" ".join),
    st.integers(min_value=0, max_value=60 * 24).map(lambda hours: hours * HOUR),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(_SPREAD, max_size=25), st.integers(min_value=1, max_value=400))
def test_stories_found_do_not_depend_on_where_time_starts(
    stream: list[tuple[str, float]], shift_hours: int
) -> None:
    """The same stream shifted in time (its stories straddling other boundaries of the
    index's time buckets) finds the same stories with the same similarities."""

    def run(shift: float) -> list[Match | None]:
        index, matches = StoryIndex(), []
        for n, (text, when) in enumerate(stream):
            match = index.find(story_terms("", text), when + shift)
            matches.append(match)
            index.add(match.story_id if match else n, story_terms("", text), when + shift)
        return matches

    assert run(0.0) == run(shift_hours * HOUR)


def test_stories_closed_for_good_are_forgotten_in_any_arrival_order() -> None:
    """A story whose latest article is more than a window older than the newest article
    seen is forgotten even when it arrived last, so an old article found late starts its
    own story (as after a restart) and the index holds about a window of news."""
    index = _index((2, BUDGET, 10 * 86400.0), (1, QUAKE_A, 0.0))
    assert len(index) == 1
    assert index.find(_terms(QUAKE_B), HOUR) is None
    assert index.find(_terms(BUDGET), 10 * 86400.0 + HOUR) is not None


# --- the same terms as before the speed-up (bench.stories_before keeps that code) ---------

_PIECES = [*"aZ9_ é'-.\n\t’“”—–\xa0\u200bΣσİ\u212aß·", "ing ", "es ", "The ", "Talking "]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=60).map("".join)


def test_every_corpus_entry_gets_the_same_terms_as_before() -> None:
    """Story terms, content words and term sets of every corpus feed entry equal those of
    the code before the speed-up (the summarizer's terms too, so its summaries stay)."""
    entries = corpus_entries()
    assert len(entries) > 3000
    for item in entries:
        assert story_terms(item.title, item.text) == before.story_terms(item.title, item.text)
        head = item.text[:2000]
        assert content_words(head) == before.content_words(head)
        assert term_set(head) == before.term_set(head)


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.integers(min_value=1, max_value=200))
def test_any_text_gets_the_same_terms_as_before(text: str, lead_words: int) -> None:
    """Whatever the characters (non-ASCII letters, marks, a capital sigma, "İ"), content
    words, term sets and story terms equal those of the regular expression they replace."""
    assert content_words(text) == before.content_words(text)
    assert content_words(text, lead_words) == before.content_words(text)[:lead_words]
    assert term_set(text) == before.term_set(text)
    assert story_terms(text, text, lead_words) == before.story_terms(text, text, lead_words)


# stopwords weigh: a lead found past the opening is then tried too
_LONG_PIECES = [*_PIECES, *["the ", "of ", "a ", "to ", "x "] * 8, "Council ", "ΟΔΟΣ ", "Σ’ "]
_LONG_TEXT = st.lists(st.sampled_from(_LONG_PIECES), min_size=100, max_size=1500).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), _LONG_TEXT, st.integers(min_value=1, max_value=60))
def test_a_long_texts_opening_gives_the_same_terms_as_before(
    title: str, text: str, lead_words: int
) -> None:
    """A text longer than the opening read first (found there, or continued past it) gets
    the same story terms as before, whatever its characters and spacing."""
    assert story_terms(title, text, lead_words) == before.story_terms(title, text, lead_words)


@settings(max_examples=500)
@given(st.text(st.sampled_from(list("abdegins_é")), max_size=10))
def test_any_word_gets_the_same_stem_as_before(word: str) -> None:
    """Suffixes are stripped from the same words as before, by the same rule."""
    assert stem(word) == before.stem(word)


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list("a  b\n\xa0é")), max_size=60), st.integers(-1, 12))
def test_the_lead_is_cut_where_it_was(text: str, n: int) -> None:
    """The lead ends at the same space as before for any text and word count."""
    assert _first_words(text, n) == before.first_words(text, n)


def test_ascii_words_are_the_regular_expressions_words() -> None:
    """Each ASCII character is kept by the fast path exactly when it is a word character."""
    for code in range(128):
        text = f"ab{chr(code)}cd"
        assert content_words(text) == before.content_words(text)
        assert len(content_words(text)) == (1 if chr(code).isalnum() or chr(code) == "_" else 2)


def test_the_corpus_stream_joins_the_same_stories_as_before() -> None:
    """The corpus entries spread over a week, one at a time as ingest adds them, find the
    same stories with the same similarities as with the index before the speed-up."""

    def run(index: StoryIndex) -> list[Match | None]:
        matches = []
        for n, item in enumerate(stream):
            terms = story_terms(item.title, item.text)
            match = index.find(terms, item.published)
            index.add(match.story_id if match else n, terms, item.published)
            matches.append(match)
        return matches

    stream = sorted(corpus_entries(), key=lambda item: item.published)
    new = run(StoryIndex())
    assert new == run(before.StoryIndex())
    assert sum(match is not None for match in new) > 100


@given(st.dictionaries(st.integers(0, 20), st.sampled_from([0.1, 0.2, 0.3, 0.9])))
def test_best_match_chooses_as_before(similarities: dict[int, float]) -> None:
    """Whatever the similarities and ties, the same story is chosen as before."""
    for threshold in (0.15, 0.3):
        assert best_match(similarities, threshold) == before.best_match(similarities, threshold)
