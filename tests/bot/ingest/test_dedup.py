"""Near-duplicates: syndicated copies match, different stories and short texts do not."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ingest.dedup import (
    MIN_WORDS,
    NO_FINGERPRINT,
    NearDuplicateIndex,
    content_hash,
    from_signed64,
    hamming,
    simhash,
    simhashes,
    to_signed64,
)
from bot.ingest.fingerprint import fingerprints
from tests.bot.ingest.labelled_copies import corpus_articles, labelled_pairs
from tests.conftest import corpus_or_skip

STORY = """Riverton's city council voted 7-2 on Tuesday to approve a new tram line that will link \
the central railway station with the university campus and the hospital district, ending more \
than a decade of debate over how to ease traffic on the city's crowded east side.

The 6.4-kilometre line will have eleven stops and is expected to carry about 28,000 passengers \
a day once it opens in 2029, according to figures presented by the transport department. \
Construction is scheduled to begin next spring.

Mayor Elena Brandt called the decision a turning point for the city. "For years we have talked \
about this tram while buses sat in the same traffic jams every morning," she told reporters \
after the vote. "Today we stopped talking."

The project is budgeted at 310 million euros, two thirds of which will come from the national \
infrastructure fund. The remaining share will be covered by a bond issue that the council \
approved in the same session.

Opponents argued that the route would force the removal of more than 400 parking spaces along \
Harbour Street and that shop owners had not been consulted. Councillor Piet Vos, who voted \
against the plan, said the city was "betting the budget on optimistic ridership numbers."

Residents will be able to comment on the detailed design during a public consultation that \
opens in March. The transport department said it would publish noise and traffic studies \
before then."""

# The same wire story as another outlet runs it: byline, its own intro line, an ad slot,
# curly quotes and a boilerplate outro.
SYNDICATED = (
    "By Anna Berg\n\nHere is what we know about the decision.\n\n"
    + STORY.replace('"', "“").replace("\n\nThe project", "\n\nAdvertisement\n\nThe project")
    + "\n\nCopyright 2025 Example Wire. All rights reserved. Sign up for our morning "
    "newsletter to get stories like this in your inbox."
)

# Same topic, same town, same tram, but a different story.
OTHER_STORY = """Shop owners on Harbour Street in Riverton say they fear for their livelihoods \
after learning that the planned tram line will remove most of the parking in front of their \
businesses. At a packed meeting in the community hall on Thursday evening, more than two \
hundred residents and traders questioned officials from the city's transport department about \
the timetable for construction and the compensation on offer.

Marta Kowalski, who has run a bakery on the street for nineteen years, said she had only found \
out about the route from a newspaper. "Nobody asked us anything. Half of my customers come by \
car," she said.

Officials promised temporary loading zones and a fund of two million euros for businesses that \
lose income during the works, which are expected to last three years. Several speakers asked \
why the tram could not run along the river embankment instead. A department engineer said that \
route had been studied in 2019 and rejected because it would miss the hospital district.

The traders' association plans to collect signatures for a petition and has hired a lawyer to \
examine whether the council followed the rules on public participation. The city will hold a \
formal consultation on the design in March, and the association said it would take part while \
keeping its legal options open."""

SHORT = "Riverton council approves the tram line; construction starts next spring."


def test_syndicated_copy_matches() -> None:
    """A copy with a byline, an intro line, an ad slot and a boilerplate outro matches."""
    original, copy = simhash(STORY), simhash(SYNDICATED)
    assert hamming(original, copy) <= 7
    index = NearDuplicateIndex()
    index.add(original, story_id=11)
    assert index.find(copy) == 11


def test_different_story_on_the_same_topic_does_not_match() -> None:
    """Two different stories about the same tram stay two stories."""
    assert hamming(simhash(STORY), simhash(OTHER_STORY)) > 16
    index = NearDuplicateIndex()
    index.add(simhash(STORY), story_id=11)
    assert index.find(simhash(OTHER_STORY)) is None


def test_short_texts_are_never_matched() -> None:
    """Under MIN_WORDS words there is no fingerprint, so even identical short texts do not
    match by simhash (content_hash catches exact copies)."""
    assert simhash(SHORT) == NO_FINGERPRINT
    index = NearDuplicateIndex()
    index.add(simhash(SHORT), story_id=1)
    assert len(index) == 0
    assert index.find(simhash(SHORT)) is None
    assert content_hash("t", SHORT) == content_hash("t", SHORT.upper())


def test_min_words_boundary() -> None:
    """MIN_WORDS words get a fingerprint; one fewer does not."""
    words = [f"word{n}" for n in range(MIN_WORDS)]
    assert simhash(" ".join(words)) != NO_FINGERPRINT
    assert simhash(" ".join(words[:-1])) == NO_FINGERPRINT


def test_boilerplate_alone_does_not_count_as_text() -> None:
    """Boilerplate sentences are not story text: a page of them has no fingerprint."""
    boilerplate = "Sign up for our newsletter today. All rights reserved. Read more here. " * 20
    assert simhash(boilerplate) == NO_FINGERPRINT


def test_simhash_is_pinned() -> None:
    """The fingerprint of a fixed text never changes within a fingerprint version: stored
    fingerprints depend on it (version 1 gave 0xC4B8_3502_03B4_79E5)."""
    assert simhash(STORY) == 0x4CB6_0291_B3CC_3686


def test_simhash_is_the_same_in_another_process() -> None:
    """Another interpreter with another hash seed computes the same fingerprint."""
    code = "import sys; from bot.ingest.dedup import simhash; print(simhash(sys.stdin.read()))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", code], input=STORY, capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == simhash(STORY)


def test_content_hash_ignores_case_punctuation_and_spacing() -> None:
    """Exact copies up to case, punctuation and whitespace share a content hash."""
    base = content_hash("Tram approved", STORY)
    assert base == content_hash("TRAM approved!", STORY.replace("\n\n", "\n   \n").lower())
    assert base != content_hash("Tram approved", STORY.replace("310 million", "320 million"))
    assert base != content_hash("Tram rejected", STORY)
    assert len(base) == 64
    assert int(base, 16) >= 0


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=2000))
def test_simhash_is_deterministic_and_64_bit(text: str) -> None:
    """Any text hashes to the same 64-bit value every time."""
    value = simhash(text)
    assert value == simhash(text)
    assert 0 <= value < 1 << 64


@given(st.integers(0, (1 << 64) - 1), st.integers(0, (1 << 64) - 1))
def test_hamming_is_a_symmetric_distance(a: int, b: int) -> None:
    """Hamming distance is symmetric, zero only on equal values, at most 64."""
    assert hamming(a, b) == hamming(b, a)
    assert (hamming(a, b) == 0) == (a == b)
    assert 0 <= hamming(a, b) <= 64


@given(st.integers(0, (1 << 64) - 1))
def test_signed64_round_trip(value: int) -> None:
    """A fingerprint survives the trip through SQLite's signed 64-bit INTEGER."""
    signed = to_signed64(value)
    assert -(1 << 63) <= signed < 1 << 63
    assert from_signed64(signed) == value


# --- the index --------------------------------------------------------------------------


def flip(value: int, bits: set[int]) -> int:
    """``value`` with the given bit positions flipped."""
    for bit in bits:
        value ^= 1 << bit
    return value


@settings(max_examples=300)
@given(st.integers(1, (1 << 64) - 1), st.sets(st.integers(0, 63), max_size=7))
def test_index_finds_every_fingerprint_within_max_distance(
    fingerprint: int, bits: set[int]
) -> None:
    """Whichever bits differ, up to max_distance of them, the stored story is found."""
    index = NearDuplicateIndex(max_distance=7)
    index.add(fingerprint, story_id=5)
    query = flip(fingerprint, bits) or 1 << 63  # 0 is "no fingerprint"
    expected = 5 if hamming(query, fingerprint) <= 7 else None
    assert index.find(query) == expected


@settings(max_examples=100)
@given(st.integers(1, (1 << 64) - 1), st.sets(st.integers(0, 63), min_size=8, max_size=20))
def test_index_ignores_fingerprints_beyond_max_distance(fingerprint: int, bits: set[int]) -> None:
    """More than max_distance differing bits is no match."""
    index = NearDuplicateIndex(max_distance=7)
    index.add(fingerprint, story_id=5)
    assert index.find(flip(fingerprint, bits)) is None


@pytest.mark.parametrize("max_distance", [0, 3, 4, 9, 15])
def test_index_threshold_is_exact_for_other_distances(max_distance: int) -> None:
    """At max_distance bits a match, one more bit none, for several thresholds."""
    index = NearDuplicateIndex(max_distance=max_distance)
    base = 0x0123_4567_89AB_CDEF
    index.add(base, story_id=1)
    # spread the flips over all four 16-bit blocks, the hardest case for banding
    order = [(i % 4) * 16 + i // 4 for i in range(64)]
    assert index.find(flip(base, set(order[:max_distance]))) == 1
    assert index.find(flip(base, set(order[: max_distance + 1]))) is None


def test_index_prefers_the_closest_then_the_earliest() -> None:
    """The nearest fingerprint wins; among equals, the one added first."""
    index = NearDuplicateIndex()
    base = 0xFFFF_0000_FFFF_0000
    index.add(flip(base, {1, 2, 3}), story_id=1)
    index.add(flip(base, {4}), story_id=2)
    index.add(flip(base, {5}), story_id=3)
    assert index.find(base) == 2


def test_index_forgets_the_oldest_beyond_capacity() -> None:
    """Past capacity, the oldest entries are no longer found."""
    index = NearDuplicateIndex(capacity=2)
    index.extend([(0x1111, 1), (0x2222_0000_0000, 2), (0x3333_0000_0000_0000, 3)])
    assert len(index) == 2
    assert index.find(0x1111) is None
    assert index.find(0x3333_0000_0000_0000) == 3


def test_index_never_stores_or_matches_no_fingerprint() -> None:
    """NO_FINGERPRINT is ignored on add and on find."""
    index = NearDuplicateIndex(max_distance=15)
    index.add(NO_FINGERPRINT, story_id=1)
    index.add(1, story_id=2)
    assert len(index) == 1
    assert index.find(NO_FINGERPRINT) is None


@pytest.mark.parametrize(("max_distance", "capacity"), [(-1, 10), (16, 10), (3, 0)])
def test_index_rejects_bad_settings(max_distance: int, capacity: int) -> None:
    """Out-of-range settings raise ValueError."""
    with pytest.raises(ValueError):
        NearDuplicateIndex(max_distance=max_distance, capacity=capacity)


def test_index_with_100k_entries_is_fast_and_exact() -> None:
    """With 100k random entries, a planted near copy is found and random queries miss."""
    rng = random.Random(7)
    index = NearDuplicateIndex()
    index.extend((rng.getrandbits(64) | 1, n) for n in range(100_000))
    planted = rng.getrandbits(64) | 1
    index.add(planted, story_id=-1)
    queries = [rng.getrandbits(64) | 1 for _ in range(2000)]
    started = time.perf_counter()
    found = index.find(flip(planted, {0 if planted & 2 else 1, 17, 40, 63}))
    misses = sum(index.find(query) is None for query in queries)
    elapsed = time.perf_counter() - started
    assert found == -1
    assert misses == len(queries)
    assert elapsed < 5  # about 0.2 s on a laptop; generous for slow CI


# --- real articles ----------------------------------------------------------------------


def test_a_batch_gives_each_text_its_own_fingerprint() -> None:
    """Fingerprints made in one batch equal those made one text at a time."""
    texts = [STORY, SHORT, "", OTHER_STORY, SYNDICATED, STORY]
    assert simhashes(texts) == [simhash(text) for text in texts]
    assert simhashes([]) == []


def test_corpus_copies_match_and_different_articles_do_not() -> None:
    """On the labelled corpus set: most edited copies match, no different articles or
    halves of one article do (``python -m bench fingerprints`` prints the full table)."""
    pairs = labelled_pairs(corpus_articles(corpus_or_skip("summaries").parent))
    values = simhashes([text for pair in pairs for text in (pair.first, pair.second)])
    matched: dict[str, list[bool]] = {}
    for n, pair in enumerate(pairs):
        a, b = values[2 * n], values[2 * n + 1]
        matched.setdefault(pair.kind, []).append(bool(a and b and hamming(a, b) <= 7))
    share = {kind: sum(hits) / len(hits) for kind, hits in matched.items()}
    assert share["syndicated"] >= 0.85  # 0.90 measured
    assert share["wire"] >= 0.95  # 1.00
    assert share["last paragraph dropped"] >= 0.80  # 0.85
    assert share["re-wrapped"] >= 0.95  # 0.98
    assert share["different articles"] == share["halves"] == 0.0


def test_fingerprints_of_a_batch_equal_each_one_alone() -> None:
    """The batch gives each (title, body) exactly its content hash and its simhash, long
    bodies (past the fingerprinted opening) included."""
    long = (STORY + "\n\n") * 8
    articles = [("Tram", STORY), ("", ""), ("Other", OTHER_STORY), ("Long", long)]
    assert fingerprints(articles) == [(content_hash(t, b), simhash(b)) for t, b in articles]
