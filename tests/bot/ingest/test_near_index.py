"""The near-duplicate index answers as the one it replaced (bench.stories_before keeps it):
for every corpus fingerprint, and for any stream of nearby fingerprints."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bench import stories_before as before
from bot.ingest.dedup import NearDuplicateIndex, simhashes
from tests.bot.ingest.corpus_entries import corpus_entries

Index = NearDuplicateIndex | before.NearDuplicateIndex


def _answers(index: Index, prints: list[int]) -> list[int | None]:
    """Find each fingerprint and a few bits off it, adding it when no near-copy is found."""
    answers = []
    for n, fingerprint in enumerate(prints):
        found = index.find(fingerprint)
        answers += [found, index.find(fingerprint ^ 0b1011), index.find(fingerprint ^ 1 << 40)]
        if found is None:
            index.add(fingerprint, n)
    return answers


def test_every_corpus_fingerprint_gets_the_same_answer_as_before() -> None:
    """On the corpus feeds' simhashes, as ingest uses the index, old and new agree."""
    prints = simhashes([item.text for item in corpus_entries()])
    for max_distance, capacity in [(7, 100_000), (3, 100_000), (12, 100_000), (7, 500)]:
        new = _answers(NearDuplicateIndex(max_distance, capacity), prints)
        old = _answers(before.NearDuplicateIndex(max_distance, capacity), prints)
        assert new == old
        assert any(story is not None for story in new)


_FLIPS = st.sets(st.integers(0, 63), max_size=10)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, (1 << 64) - 1),
    st.lists(st.tuples(_FLIPS, st.booleans()), max_size=30),
    st.integers(0, 15),
    st.integers(1, 8),
)
def test_any_stream_gets_the_same_answers_as_before(
    base: int, stream: list[tuple[set[int], bool]], max_distance: int, capacity: int
) -> None:
    """Fingerprints a few bits from one another (ties, forgetting past capacity, and
    NO_FINGERPRINT included) get the same story from the new index as from the old."""
    new, old = (
        NearDuplicateIndex(max_distance, capacity),
        before.NearDuplicateIndex(max_distance, capacity),
    )
    for n, (flips, store) in enumerate(stream):
        fingerprint = base ^ sum(1 << bit for bit in flips)
        assert new.find(fingerprint) == old.find(fingerprint)
        if store:
            new.add(fingerprint, n)
            old.add(fingerprint, n)
    assert len(new) == len(old)
