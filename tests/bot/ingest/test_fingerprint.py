"""Fingerprint values: version 2 pinned and equal to its word-by-word definition; version 1
(``bench/fingerprint_v1.py``, the values older databases hold) pinned to the values the numpy
implementation gave and equal to that implementation's on any text; content hashes pinned
(the same in both versions); computed without numpy; the same values as the frozen copy of
the code before issue 11's last speed-up (``bench/fingerprint_v2.py``) on every corpus entry
and on any Unicode text."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from bench import fingerprint_numpy, fingerprint_v1, fingerprint_v2
from bot.feeds.parse import parse_feed
from bot.ingest import fingerprint
from bot.ingest.fingerprint import (
    FINGERPRINT_CHARS,
    MIN_WORDS,
    content_hash,
    fingerprints,
    simhashes,
)
from tests.conftest import corpus_or_skip, python_prints

LEAD = """The regional water authority said on Thursday that it would spend 240 million euros \
over five years to replace ageing pipes under the old town, after a summer of burst mains left \
thousands of households without running water for days at a time. Engineers will start with \
the oldest cast iron sections near the cathedral, where most of the leaks were found."""

FOLLOW = """Residents have complained for years about low pressure and brown water in the \
mornings. The authority's director told a press conference that the work would be done street \
by street at night, so that shops and cafes could stay open, and that bills would not rise \
before the end of the decade. Opposition councillors asked why the plan had taken so long."""

STORY = LEAD + "\n\n" + FOLLOW


def _words(count: int) -> str:
    return " ".join(f"word{i % 37} term{i % 11}" for i in range(count // 2)) + (
        " odd" if count % 2 else ""
    )


def _with(sentence: str, where: str = "middle") -> str:
    """The story with one sentence added where boilerplate usually sits."""
    if where == "start":
        return sentence + " " + STORY
    if where == "end":
        return STORY + " " + sentence
    return LEAD + " " + sentence + "\n\n" + FOLLOW


PHRASES = {
    f"phrase {p}": _with(f"{p.capitalize()} the news desk team today.")
    for p in (
        *("all rights reserved", "may not be published", "may not be reproduced"),
        *("may not be redistributed", "sign up for", "subscribe to our", "our newsletter"),
        *("follow us on", "click here", "read more", "continue reading", "share this"),
        *("reporting by", "editing by", "writing by", "contributed to this report"),
        *("originally appeared", "originally published", "appeared first on"),
    )
}

CASES = {
    "story": STORY,
    "empty": "",
    "spaces": "  \n\n \t ",
    "short": "Council approves tram line. More soon.",
    "49 words": _words(MIN_WORDS - 1),
    "50 words": _words(MIN_WORDS),
    "51 words": _words(MIN_WORDS + 1),
    "50 words in short paragraphs": "\n\n".join(_words(4) for _ in range(13)),
    "50 words, one short paragraph": _words(MIN_WORDS) + "\n\nBy Jane Doe",
    "non-ascii": "Ｔｈｅ ﬁnance “minister” — in Zürich — said… 2² «non» ‘yes’ café\xa0bar. "
    + "Министр финансов заявил, что бюджет будет утверждён. 財務大臣は予算を承認した。\n\n"
    + STORY,
    "nfkc ligatures only": STORY.replace("fi", "ﬁ").replace("ff", "ﬀ"),
    "copyright sign": _with("© 2024 The Gazette. Used with permission of the owner today."),
    "copyright (c)": _with("Copyright (c) The Gazette Group and its partners today."),
    "copyright year": _with("Copyright 1999 The Gazette Group and its partners today.", "end"),
    "copyright 2100 (not boilerplate)": _with("Copyright 2100 is when the law lapses for all."),
    "copyright mid-sentence": _with("The copyright 2024 dispute went to the high court today."),
    "sign inside a word": _with("The code ab\x04cd was printed on every new ticket today."),
    "updated first": _with("Updated at 10:30 with comments from the mayor and staff."),
    "updated later": _with("The list was updated at 10:30 with comments from the mayor."),
    "advertisement": _with("Advertisement", "start"),
    "advertisements": _with("ADVERTISEMENTS: the paper's own line about more offers."),
    "label related": _with("Related: Tram line approved after ten years of debate here."),
    "label photo": _with("Photo: Jane Doe for the Gazette, taken on the east bank."),
    "label image": _with("Image : Reuters picture desk, taken on the east bank today."),
    "label video": _with("VIDEO: watch the vote as it happened in the council hall."),
    "label without colon": _with("Photo by Jane Doe for the Gazette, taken on the east bank."),
    "label mid-sentence": _with("The photo: a mayor smiling at the east bank in the rain."),
    "phrase across a comma": _with("You can read, more or less, the whole plan online now."),
    "phrase across a full stop": _with("Everyone should read. More will follow in the plan."),
    "phrase across a colon": _with("What to read: more of the plan is online for everyone."),
    "phrase with question mark": _with("Want to know? Click here! The plan is online today."),
    "ellipsis before phrase": _with("The plan goes on and on...read more of it online today."),
    "ends with label colon": _words(MIN_WORDS - 1) + ". Photo:",
    "ends with full stop": STORY + " The end.",
    "windows line ends": STORY.replace("\n", "\r\n"),
    "blank line with spaces": LEAD + "\n \n" + FOLLOW + "\n\n\n" + LEAD,
    "numbers and times": STORY + " It costs 3.5 million at 10:30 on 2024-05-01, e.g. today.",
    "long words": _with(
        "Internationalization internationalizations counterintelligence_agencies abcdefghij"
        "klmnopqrstuvwxyz and abcdefghijklmnop0123456789 share their first sixteen bytes."
    ),
    "long text": (STORY + "\n\n") * 12 + "A different ending that is past the limit.",
    "long text, other ending": (STORY + "\n\n") * 12 + "Another ending far past the limit.",
    **PHRASES,
}

# One call of more texts than a batch holds. A text ending "... Photo:" drops that label
# sentence (and falls under MIN_WORDS) where a text follows it in its batch, not where it
# ends the batch (the 64th text here) or is alone: the colon is followed by nothing.
ONE_CALL = [*CASES, *CASES]
ONE_CALL[63] = "ends with label colon"

# Version 1, computed with the numpy implementation (bench/fingerprint_numpy.py) before it
# was replaced: each text alone, and the texts of ONE_CALL in one call.
GOLDEN: dict[str, int] = {
    "story": 0xE59554EBA94DEA23,
    "empty": 0x0000000000000000,
    "spaces": 0x0000000000000000,
    "short": 0x0000000000000000,
    "49 words": 0x0000000000000000,
    "50 words": 0x11205E68EC0E283F,
    "51 words": 0x11305E68EC0E2D3F,
    "50 words in short paragraphs": 0x0000000000000000,
    "50 words, one short paragraph": 0x11205E68EC0E283F,
    "non-ascii": 0xE195D4CBA94DAA62,
    "nfkc ligatures only": 0xE59554EBA94DEA23,
    "copyright sign": 0xE49554EBA945EAE2,
    "copyright (c)": 0xE59554EBA94DEA23,
    "copyright year": 0xE59554EBA94DEA23,
    "copyright 2100 (not boilerplate)": 0xE59554EBAB45EA2E,
    "copyright mid-sentence": 0xE49554EBA94DEAE7,
    "sign inside a word": 0xE595D4EBAB4DEAEB,
    "updated first": 0xE59554EBA94DEA23,
    "updated later": 0xE59554EBAB4DEA6A,
    "advertisement": 0xE1175C4BA5FDEBE2,
    "advertisements": 0xE59554EBA94DEA23,
    "label related": 0xE59554EBA94DEA23,
    "label photo": 0xE59554EBA94DEA23,
    "label image": 0xE59554EBA94DEA23,
    "label video": 0xE59554EBA94DEA23,
    "label without colon": 0xE59544EBAD4DEAE2,
    "label mid-sentence": 0xE595C4EBA14DEA2B,
    "phrase across a comma": 0xE59554EBA94DEA23,
    "phrase across a full stop": 0xE495D46BA94DEAE3,
    "phrase across a colon": 0xE495D46BAF4DEA6B,
    "phrase with question mark": 0xE595D4EBAB45EBEA,
    "ellipsis before phrase": 0xE59554EBA94DEA23,
    "ends with label colon": 0x15B01E6CEC0C2A3F,
    "ends with full stop": 0xE59554EBA94DEA23,
    "windows line ends": 0xE59554EBA94DEA23,
    "blank line with spaces": 0xE595D4EBAB4DEA2B,
    "numbers and times": 0xE59554EBA94DEA27,
    "long words": 0xE495446BA945EB66,
    "long text": 0xE595D4EBA94DEA23,
    "long text, other ending": 0xE595D4EBA94DEA23,
    "phrase all rights reserved": 0xE59554EBA94DEA23,
    "phrase may not be published": 0xE59554EBA94DEA23,
    "phrase may not be reproduced": 0xE59554EBA94DEA23,
    "phrase may not be redistributed": 0xE59554EBA94DEA23,
    "phrase sign up for": 0xE59554EBA94DEA23,
    "phrase subscribe to our": 0xE59554EBA94DEA23,
    "phrase our newsletter": 0xE59554EBA94DEA23,
    "phrase follow us on": 0xE59554EBA94DEA23,
    "phrase click here": 0xE59554EBA94DEA23,
    "phrase read more": 0xE59554EBA94DEA23,
    "phrase continue reading": 0xE59554EBA94DEA23,
    "phrase share this": 0xE59554EBA94DEA23,
    "phrase reporting by": 0xE59554EBA94DEA23,
    "phrase editing by": 0xE59554EBA94DEA23,
    "phrase writing by": 0xE59554EBA94DEA23,
    "phrase contributed to this report": 0xE59554EBA94DEA23,
    "phrase originally appeared": 0xE59554EBA94DEA23,
    "phrase originally published": 0xE59554EBA94DEA23,
    "phrase appeared first on": 0xE59554EBA94DEA23,
}
GOLDEN_IN_ONE_CALL = [GOLDEN[name] for name in ONE_CALL]
GOLDEN_IN_ONE_CALL[32] = 0x0000000000000000  # a text follows: "Photo:" is a label
GOLDEN_IN_ONE_CALL[91] = 0x0000000000000000  # a text follows: "Photo:" is a label
# Version 2, computed when it was defined (the same label exception in one call).
GOLDEN_V2: dict[str, int] = {
    "story": 0x2C24B1F9AC38C3DC,
    "empty": 0x0000000000000000,
    "spaces": 0x0000000000000000,
    "short": 0x0000000000000000,
    "49 words": 0x0000000000000000,
    "50 words": 0xA6007A2CD2C94DE1,
    "51 words": 0xAE02FA2CD2C94FE1,
    "50 words in short paragraphs": 0x0000000000000000,
    "50 words, one short paragraph": 0xA6007A2CD2C94DE1,
    "non-ascii": 0x2C24B1AB2D2843CC,
    "nfkc ligatures only": 0x2C24B1F9AC38C3DC,
    "copyright sign": 0x2C2410B9AC2CC3CC,
    "copyright (c)": 0x2C24B1F9AC38C3DC,
    "copyright year": 0x2C24B1F9AC38C3DC,
    "copyright 2100 (not boilerplate)": 0x2C24B1A9AC2CC3DC,
    "copyright mid-sentence": 0x2C2431F9A42BC3DC,
    "sign inside a word": 0x2C2431F9AC2547CC,
    "updated first": 0x2C24B1F9AC38C3DC,
    "updated later": 0x2C25A1F9A92D43DD,
    "advertisement": 0x2C2C35F9A834C35C,
    "advertisements": 0x2C24B1F9AC38C3DC,
    "label related": 0x2C24B1F9AC38C3DC,
    "label photo": 0x2C24B1F9AC38C3DC,
    "label image": 0x2C24B1F9AC38C3DC,
    "label video": 0x2C24B1F9AC38C3DC,
    "label without colon": 0x2C24A1B9AC2DC7DC,
    "label mid-sentence": 0x2C2C31E9A925CBDD,
    "phrase across a comma": 0x2C24B1F9AC38C3DC,
    "phrase across a full stop": 0x2C2421B9A03843CC,
    "phrase across a colon": 0x2C24A1F98424C3CC,
    "phrase with question mark": 0x2C24B1F9A82943DC,
    "ellipsis before phrase": 0x2C24B1F9AC38C3DC,
    "ends with label colon": 0xA6207A24C2896DC1,
    "ends with full stop": 0x2C24B1F9AC38C3CC,
    "windows line ends": 0x2C24B1F9AC38C3DC,
    "blank line with spaces": 0x2424A1A98C28C3CC,
    "numbers and times": 0x2C2431F9A83CC3DC,
    "long words": 0x2C24A1F9AD2AC3CD,
    "long text": 0x2C2421F9AC28C3DC,
    "long text, other ending": 0x2C2421F9AC28C3DC,
    "phrase all rights reserved": 0x2C24B1F9AC38C3DC,
    "phrase may not be published": 0x2C24B1F9AC38C3DC,
    "phrase may not be reproduced": 0x2C24B1F9AC38C3DC,
    "phrase may not be redistributed": 0x2C24B1F9AC38C3DC,
    "phrase sign up for": 0x2C24B1F9AC38C3DC,
    "phrase subscribe to our": 0x2C24B1F9AC38C3DC,
    "phrase our newsletter": 0x2C24B1F9AC38C3DC,
    "phrase follow us on": 0x2C24B1F9AC38C3DC,
    "phrase click here": 0x2C24B1F9AC38C3DC,
    "phrase read more": 0x2C24B1F9AC38C3DC,
    "phrase continue reading": 0x2C24B1F9AC38C3DC,
    "phrase share this": 0x2C24B1F9AC38C3DC,
    "phrase reporting by": 0x2C24B1F9AC38C3DC,
    "phrase editing by": 0x2C24B1F9AC38C3DC,
    "phrase writing by": 0x2C24B1F9AC38C3DC,
    "phrase contributed to this report": 0x2C24B1F9AC38C3DC,
    "phrase originally appeared": 0x2C24B1F9AC38C3DC,
    "phrase originally published": 0x2C24B1F9AC38C3DC,
    "phrase appeared first on": 0x2C24B1F9AC38C3DC,
}
GOLDEN_V2_IN_ONE_CALL = [GOLDEN_V2[name] for name in ONE_CALL]
GOLDEN_V2_IN_ONE_CALL[32] = GOLDEN_V2_IN_ONE_CALL[91] = 0  # a text follows: "Photo:" a label
CONTENT_HASHES = {  # the first 16 hex digits, with the title "Water: pipes"
    "story": "785aac81a0a4f662",
    "empty": "057881dc484292e9",
    "spaces": "057881dc484292e9",
    "short": "5e864728e60a66d1",
    "49 words": "60d7ee1770ae0050",
    "50 words": "0dc8e74a6e008b4f",
    "51 words": "d0f618a4108ec28d",
    "50 words in short paragraphs": "2f3227193b780702",
    "50 words, one short paragraph": "84c11eee5f8030b6",
    "non-ascii": "ad8f7a34ceea9929",
    "nfkc ligatures only": "785aac81a0a4f662",
    "copyright sign": "667dd287c5fb4fec",
    "copyright (c)": "afdec14416fea690",
    "copyright year": "8958b96e13dba375",
    "copyright 2100 (not boilerplate)": "cce122e4fc8617bb",
    "copyright mid-sentence": "655099d0ef3a39b8",
    "sign inside a word": "cfa865e533c91628",
    "updated first": "7862cbce24c2e5f5",
    "updated later": "185098a727051e23",
    "advertisement": "588719bb87e6643d",
    "advertisements": "05d85254efea47d6",
    "label related": "4b1075ea7897c50b",
    "label photo": "fdf694ec7c0f08eb",
    "label image": "e621beccc6e43c01",
    "label video": "e4d9327e9442e269",
    "label without colon": "263ea08dffd022fe",
    "label mid-sentence": "0fb295f2db637bbf",
    "phrase across a comma": "efb0b9704fe8a3b9",
    "phrase across a full stop": "af45c09529ef9ea1",
    "phrase across a colon": "265c7cd1bcc8af0c",
    "phrase with question mark": "77fb66d27d4764a3",
    "ellipsis before phrase": "250fc23b6e95ed1a",
    "ends with label colon": "5421449ca270fa8c",
    "ends with full stop": "41671421f28d042c",
    "windows line ends": "785aac81a0a4f662",
    "blank line with spaces": "814940c644b9484a",
    "numbers and times": "3f7d4f57051c2a2e",
    "long words": "17901057f6bd8747",
    "long text": "b455e504fb87ba06",
    "long text, other ending": "b65ffbb09d7b9980",
    "phrase all rights reserved": "496f3750dd37ac8c",
    "phrase may not be published": "cad03b672a176203",
    "phrase may not be reproduced": "eeac84c024e96f47",
    "phrase may not be redistributed": "0c34623d32e20e54",
    "phrase sign up for": "89ac3a41883fde14",
    "phrase subscribe to our": "e020e08f716478b3",
    "phrase our newsletter": "7fb246d67a34e5ae",
    "phrase follow us on": "e30ce679a354bf8e",
    "phrase click here": "e06d515f4d66fb40",
    "phrase read more": "24c71fbf6e61800d",
    "phrase continue reading": "3e801d7f800a0462",
    "phrase share this": "29fb3b401495e53d",
    "phrase reporting by": "2b340d3584f82ade",
    "phrase editing by": "13e553340b204130",
    "phrase writing by": "542907e94611896a",
    "phrase contributed to this report": "d0d98ee745848e46",
    "phrase originally appeared": "8f4737cdf943460a",
    "phrase originally published": "47c956c2ebdf3cc9",
    "phrase appeared first on": "c370a3f78c9179e8",
}


def test_cases_cover_each_boilerplate_rule_and_the_limits() -> None:
    """The pinned texts include a text longer than either version's ``FINGERPRINT_CHARS``
    and more texts than one batch holds."""
    assert len(CASES["long text"]) > max(FINGERPRINT_CHARS, fingerprint_v1.FINGERPRINT_CHARS)
    assert len(ONE_CALL) > 64
    assert set(GOLDEN) == set(GOLDEN_V2) == set(CASES) == set(CONTENT_HASHES)


def test_simhashes_are_pinned() -> None:
    """Each text's version 2 simhash is the value it was given when defined."""
    assert {name: simhashes([text])[0] for name, text in CASES.items()} == GOLDEN_V2


def test_simhashes_of_one_call_are_pinned() -> None:
    """The texts in one call (two batches) get their pinned version 2 values."""
    assert simhashes([CASES[name] for name in ONE_CALL]) == GOLDEN_V2_IN_ONE_CALL


def test_v1_simhashes_are_pinned() -> None:
    """Each text's version 1 simhash, alone and in one call, is the value the numpy
    implementation gave it."""
    assert {name: fingerprint_v1.simhashes([text])[0] for name, text in CASES.items()} == GOLDEN
    assert fingerprint_v1.simhashes([CASES[name] for name in ONE_CALL]) == GOLDEN_IN_ONE_CALL


def test_content_hashes_are_pinned() -> None:
    """Each text's content hash (with a fixed title) is the value it always had, and
    ``fingerprints`` of both versions give the same pairs."""
    hashes = {name: content_hash("Water: pipes", text)[:16] for name, text in CASES.items()}
    assert hashes == CONTENT_HASHES
    articles = [("Water: pipes", CASES[name]) for name in ONE_CALL]
    for version, values in (
        (fingerprint, GOLDEN_V2_IN_ONE_CALL),
        (fingerprint_v1, GOLDEN_IN_ONE_CALL),
    ):
        pairs = version.fingerprints(articles)
        assert [(digest[:16], value) for digest, value in pairs] == [
            (CONTENT_HASHES[name], value) for name, value in zip(ONE_CALL, values, strict=True)
        ]


TOKENS = st.sampled_from(
    [
        *("the", "council", "voted", "read", "more", "sign", "up", "for", "all", "rights"),
        *("reserved", "updated", "photo", "related", "copyright", "c", "2024", "1899"),
        *("our", "newsletter", "by", "reporting", "advertisement", "Video", "image"),
        *("abcdefghijklmnopq", "abcdefghijklmnopz", "ﬁnance", "Zürich", "日本語", "©"),
        *(". ", ": ", ", ", "\n\n", "\n \n", "\n", "...", "!", "?", ":", " ", "  ", "\t"),
        *("—", "…", "“", "\xa0", "(c)", "\x04", "3.5", "e.g."),
    ]
)
TEXTS = st.lists(TOKENS, max_size=160).map(" ".join) | st.lists(TOKENS, max_size=160).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXTS, max_size=70))
def test_v1_values_equal_the_numpy_implementation(texts: list[str]) -> None:
    """On any batch of texts built from boilerplate words, markers and punctuation, the
    version 1 simhashes and content hashes are the numpy implementation's."""
    assert fingerprint_v1.simhashes(texts) == fingerprint_numpy.simhashes(texts)
    articles = [(text[:20], text) for text in texts]
    assert fingerprint_v1.fingerprints(articles) == fingerprint_numpy.fingerprints(articles)


_MASK = (1 << 64) - 1


def _fold(product: int) -> int:
    return (product ^ (product >> 64)) & _MASK


def _defined_simhashes(texts: list[str]) -> list[int]:
    """Version 2 as its docstring defines it, one word and one shingle at a time (the
    counted words are the batched implementation's, shared with version 1)."""
    values = []
    for first in range(0, len(texts), 64):
        heads = [fingerprint._lowered(t[:FINGERPRINT_CHARS]) for t in texts[first : first + 64]]
        for counted in fingerprint._counted_texts(heads):
            words = counted.split()
            hashes = [_fold(int.from_bytes(w[:8], "little") * fingerprint._K1) for w in words]
            shingles = [
                _fold(((a ^ 2 * b ^ 4 * c) & _MASK) * fingerprint._K2)
                for a, b, c in zip(hashes, hashes[1:], hashes[2:], strict=False)
            ]
            half = len(shingles) // 2
            value = sum(1 << k for k in range(64) if sum(s >> k & 1 for s in shingles) > half)
            values.append((value or 1) if len(words) >= MIN_WORDS else 0)
    return values


LONG_TEXTS = st.lists(TOKENS, min_size=300, max_size=900).map(" ".join)


@settings(max_examples=100, deadline=None)
@given(st.lists(TEXTS | LONG_TEXTS, max_size=70))
def test_v2_values_follow_their_definition(texts: list[str]) -> None:
    """On any batch of texts, short or past ``FINGERPRINT_CHARS``, the batched simhashes are
    the word-by-word definition's, and ``fingerprints`` gives the same simhashes and the
    version 1 content hashes."""
    assert simhashes(texts) == _defined_simhashes(texts)
    articles = [(text[:20], text) for text in texts]
    assert fingerprints(articles) == [
        (digest, value)
        for (digest, _), value in zip(
            fingerprint_v1.fingerprints(articles), simhashes(texts), strict=True
        )
    ]


def test_ingest_does_not_import_numpy() -> None:
    """The ingest path (pipeline, fingerprints, dedup) runs without importing numpy."""
    probe = (
        "import sys, bot.app.cli, bot.ingest.pipeline, bot.ingest.dedup; "
        "from bot.ingest.fingerprint import fingerprints; fingerprints([('a', 'b ' * 60)]); "
        "print('numpy' in sys.modules)"
    )
    assert python_prints(probe).strip() == "False"


# --- the same values as the frozen copy (bench/fingerprint_v2.py) --------------------------


def test_every_corpus_entry_gets_the_frozen_values() -> None:
    """Content hashes and simhashes of every corpus feed entry, feed by feed as ingest
    batches them, equal the frozen copy's."""
    count = 0
    for path in sorted(corpus_or_skip("feeds").glob("*.xml")):
        articles = [(e.title or "", e.text) for e in parse_feed(path.read_bytes()).entries]
        assert fingerprints(articles) == fingerprint_v2.fingerprints(articles), path.name
        count += len(articles)
    assert count > 3000


def test_the_marks_replaced_early_are_what_nfkc_makes_of_them() -> None:
    """The characters replaced before NFKC become what NFKC makes of them, and the marks
    the fast path replaces are left alone by NFKC and by lower()."""
    for old, new in fingerprint._NFKC_MARKS:
        assert unicodedata.normalize("NFKC", old) == new
    for old, _ in fingerprint._UNICODE_PUNCTUATION:
        if old not in dict(fingerprint._NFKC_MARKS):
            assert unicodedata.normalize("NFKC", old) == old == old.lower()


_UNICODE = st.sampled_from(
    [
        *("ﬁ", "Ａ", "²", "½", "ＡＢＣ", "\ufe31", "\ufe58", "\u03f9", "\u212a", "İ", "Σ", "σ"),
        *("ΟΔΟΣ", "e\u0301", "\u0301", "ß", "Ǆ", "ǅ", "ﾟ", "\u200b", "😉", "日本"),
        *(old for old, _ in fingerprint._UNICODE_PUNCTUATION),
        *("\x00", "\x01", "\x02", "\x03", "\x04", "\x05", "\t", "\r", "\x0b", "\x0c", "\x1f"),
        *("\n", "\n\n", "\n \n", " ", ". ", ": ", "!", "?", "'", "\ud800", "\udfff"),
        *("The", "COUNCIL", "voted", "read more", "Copyright 2024", "Photo:", "Sign up for"),
    ]
)
_ANY_TEXT = (
    st.lists(_UNICODE | st.characters(), max_size=200).map("".join)
    | st.lists(_UNICODE | TOKENS, min_size=200, max_size=1200).map(" ".join)
    | st.text(max_size=300)
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_ANY_TEXT, _ANY_TEXT), max_size=70))
def test_any_unicode_text_gets_the_frozen_values(articles: list[tuple[str, str]]) -> None:
    """Whatever the characters (NFKC-changing ones, the marks, a capital sigma, controls,
    blank lines, lone surrogates) and lengths (past ``FINGERPRINT_CHARS``, past a batch),
    content hashes and simhashes equal the frozen copy's."""
    texts = [text for _, text in articles]
    assert fingerprints(articles) == fingerprint_v2.fingerprints(articles)
    assert simhashes(texts) == fingerprint_v2.simhashes(texts)
    assert [fingerprint._lowered(t) for t in texts] == [fingerprint_v2._lowered(t) for t in texts]
