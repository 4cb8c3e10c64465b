"""Sentence splitting on the pitfalls of news prose (examples written for these tests)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from summarizer.sentences import is_terminated, segment, split_sentences, strip_invisible


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. Okafor met Gen. Alvarez and Dr. Weiss on Tuesday. They spoke for an hour.",
            [
                "Mr. Okafor met Gen. Alvarez and Dr. Weiss on Tuesday.",
                "They spoke for an hour.",
            ],
        ),
        (
            "The U.S. Senate passed the bill. It now goes to the House.",
            ["The U.S. Senate passed the bill.", "It now goes to the House."],
        ),
        (
            "The company moved its head office to the U.S. The decision surprised staff.",
            ["The company moved its head office to the U.S.", "The decision surprised staff."],
        ),
        (
            "Sen. Mary K. Dunmore of Ohio voted no. Her aide said she had doubts.",
            ["Sen. Mary K. Dunmore of Ohio voted no.", "Her aide said she had doubts."],
        ),
        (
            "Output grew 3.5 percent, to $1.2 billion. Analysts expected 2.9%.",
            ["Output grew 3.5 percent, to $1.2 billion.", "Analysts expected 2.9%."],
        ),
        (
            "The ferry sails on Jan. 5 from No. 3 pier. Tickets are sold out.",
            ["The ferry sails on Jan. 5 from No. 3 pier.", "Tickets are sold out."],
        ),
        (
            'The mayor said: "We will rebuild." Work starts in May.',
            ['The mayor said: "We will rebuild."', "Work starts in May."],
        ),
        (
            "“Is this the end?” she asked. Nobody answered.",
            ["“Is this the end?” she asked.", "Nobody answered."],
        ),
        (
            "Acme Inc. said profits fell, citing weak demand in Europe.",
            ["Acme Inc. said profits fell, citing weak demand in Europe."],
        ),
    ],
)
def test_splits_news_prose(text: str, expected: list[str]) -> None:
    """Titles, initials, U.S., decimals, dates and quote endings split where a reader would."""
    assert list(split_sentences(text)) == expected


def test_quotation_of_several_sentences_stays_one_unit() -> None:
    """A quotation is never cut in two, so no summary can pick half of it."""
    text = 'The coach said: "We lost. We will be back. Count on it." Fans cheered.'
    assert split_sentences(text) == (
        'The coach said: "We lost. We will be back. Count on it."',
        "Fans cheered.",
    )


def test_nested_quotation_stays_one_unit() -> None:
    """A quotation inside a quotation does not end the outer one."""
    text = "\"She told me, 'Go home. Rest.' So I did.\" He smiled at that."
    assert split_sentences(text) == (
        "\"She told me, 'Go home. Rest.' So I did.\"",
        "He smiled at that.",
    )


@pytest.mark.parametrize(
    ("text", "first"),
    [
        (
            "WASHINGTON (AP) — The Senate voted 52-48 on Friday.",
            "The Senate voted 52-48 on Friday.",
        ),
        (
            "LONDON, March 3 (Reuters) - Shares fell sharply in early trade.",
            "Shares fell sharply in early trade.",
        ),
        ("BAGHDAD, Iraq (CNN) -- Two bridges were closed.", "Two bridges were closed."),
        ("(CNN)The storm weakened overnight.", "The storm weakened overnight."),
        ("NAIROBI — Counting resumed on Monday.", "Counting resumed on Monday."),
    ],
)
def test_datelines_are_removed(text: str, first: str) -> None:
    """The dateline is not part of the first sentence."""
    assert split_sentences(text)[0] == first


@pytest.mark.parametrize(
    "line",
    [
        "By Jane Roe, Associated Press",
        "By JANE ROE",
        "Read more: Why bridge tolls keep rising",
        "READ MORE",
        "Scroll down for video.",
        "Advertisement",
        "Image copyright Getty Images",
        "Pictured: The minister arrives in Brussels on Monday.",
        "Photo: Jane Roe/Reuters",
        "Smith (left) and Jones (right) at the launch of the scheme in Leeds",
        "Sacked: The presenter will not face charges over the incident.",
        "Profile: Uhuru Kenyatta",
        "Watch the final live on Channel 4 on Saturday, April 4.",
        "Published: 10:31 GMT, 3 May 2015",
        "Media playback is not supported on this device",
        "CNN's Jane Roe contributed to this report.",
        "WHAT THE VIDEO SHOWS.",
    ],
)
def test_page_furniture_is_never_a_sentence(line: str) -> None:
    """Bylines, captions, teasers and credits are dropped with their line."""
    text = f"The council approved the budget on Monday.\n\n{line}\n\nThe vote was close."
    assert split_sentences(text) == (
        "The council approved the budget on Monday.",
        "The vote was close.",
    )


def test_speech_with_a_colon_is_not_a_caption() -> None:
    """ "Mr Obama said: ..." is a sentence even though it opens with words and a colon."""
    text = "Mr Obama said: 'We have more work to do.'"
    assert split_sentences(text) == (text,)


def test_segment_numbers_sentences_and_paragraphs() -> None:
    """Positions count kept sentences from 0; paragraphs count kept paragraphs."""
    text = "First one. Second one.\n\nAdvertisement\n\nThird one here."
    sentences = segment(text)
    assert [(s.position, s.paragraph) for s in sentences] == [(0, 0), (1, 0), (2, 1)]


def test_half_a_quotation_is_marked_unbalanced() -> None:
    """A paragraph that opens a quote continued in the next one is flagged."""
    text = "He said: 'We tried everything.\n\n'We failed in the end.\n\n'It is over.'"
    assert [s.balanced for s in segment(text)] == [False, False, True]
    assert segment('She said: "It works." Then she left.')[0].balanced


def test_hard_wrapped_lines_are_joined() -> None:
    """A plain-text file wrapped at 40 columns gives whole sentences."""
    text = "The bridge will close for repairs\nnext month, the council said.\nIt reopens in May."
    assert split_sentences(text) == (
        "The bridge will close for repairs next month, the council said.",
        "It reopens in May.",
    )


def test_invisible_characters_are_stripped() -> None:
    """Zero-width and bidi controls disappear; visible text stays."""
    assert strip_invisible("pay\u200bpal\u202e.com\ufeff") == "paypal.com"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Done.", True), ('"Done."', True), ("Why?)", True), ("A caption", False), ("", False)],
)
def test_is_terminated(text: str, expected: bool) -> None:
    """Sentence ends are seen through closing quotes and brackets."""
    assert is_terminated(text) is expected


@settings(deadline=None)  # a busy CI machine must not fail a pure property
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_any_text_gives_clean_sentences_from_the_text(text: str) -> None:
    """Whatever the input, sentences are stripped, non-empty pieces of the input."""
    flat = " ".join(strip_invisible(text).split())
    for sentence in split_sentences(text):
        assert sentence
        assert sentence == sentence.strip()
        assert sentence in flat


@settings(deadline=None)  # a busy CI machine must not fail a pure property
@given(
    st.lists(st.sampled_from(["Mr.", "U.S.", "3.5", "Gen.", '"Go."', "it", "ran."]), max_size=30)
)
def test_splitting_is_deterministic(words: list[str]) -> None:
    """The same text always splits the same way."""
    text = " ".join(words)
    assert split_sentences(text) == split_sentences(text)
