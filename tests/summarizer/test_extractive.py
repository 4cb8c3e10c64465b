"""The extractive summarizer: what it picks, in which order, within which limits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from summarizer.base import Document
from summarizer.extractive import ExtractiveSummarizer
from summarizer.sentences import split_sentences

ARTICLE = """\
Floodwater forced 3,000 people from their homes in Carlisle on Sunday after the River Eden \
burst its banks.

Pictured: Residents of Warwick Road are carried to safety by firefighters on Sunday afternoon.

The Environment Agency said river levels reached 7.9 metres, the highest since records began \
in 1850.

Read more: How Carlisle's flood defences were built

Mayor Anna Price said: "We have never seen water like this. Every rescue boat we have is out."

Scroll down for video.

The army sent 200 soldiers to help fill sandbags in the city centre.

Forecasters expect more rain on Tuesday.

Schools will stay closed until Wednesday, the council said.
"""


def test_summary_is_two_or_three_sentences_of_the_article_in_order() -> None:
    """Chosen sentences are the article's own, in the article's order."""
    summary = ExtractiveSummarizer().summarize_text("", ARTICLE)
    article = split_sentences(ARTICLE)
    assert 2 <= len(summary.sentences) <= 3
    positions = [article.index(s) for s in summary.sentences]
    assert positions == sorted(positions)
    assert summary.text == " ".join(summary.sentences)
    assert summary.method == "extractive"
    assert summary.poll is None


def test_lead_sentence_comes_first() -> None:
    """The news lead is in the summary."""
    summary = ExtractiveSummarizer().summarize_text("", ARTICLE)
    assert summary.sentences[0].startswith("Floodwater forced 3,000 people")


def test_same_input_same_summary() -> None:
    """Summaries are deterministic."""
    first = ExtractiveSummarizer().summarize_text("Floods in Carlisle", ARTICLE)
    second = ExtractiveSummarizer().summarize_text("Floods in Carlisle", ARTICLE)
    assert first == second


def test_captions_and_teasers_are_never_picked() -> None:
    """A caption, a "Read more" line and a video teaser never reach the summary."""
    for limit in (150, 250, 450, 2000):
        text = ExtractiveSummarizer(max_chars=limit).summarize_text("", ARTICLE).text
        assert "Pictured" not in text
        assert "Read more" not in text
        assert "Scroll down" not in text


def test_quotation_is_kept_whole() -> None:
    """A quotation of two sentences is picked whole or not at all."""
    article = (
        'The minister said: "The plant will close in June. Nobody will lose their job." '
        "Unions welcomed the promise. The plant employs 400 people in Derby."
    )
    summary = ExtractiveSummarizer().summarize_text("", article)
    assert summary.sentences[0] == (
        'The minister said: "The plant will close in June. Nobody will lose their job."'
    )


def test_headline_repeated_in_the_text_is_not_picked() -> None:
    """A first line that repeats the title is not summary material."""
    title = "Floods force 3,000 from homes in Carlisle"
    summary = ExtractiveSummarizer().summarize_text(title, f"{title}.\n\n{ARTICLE}")
    assert all(s != f"{title}." for s in summary.sentences)


def test_first_sentence_longer_than_the_limit_is_cut_at_a_word() -> None:
    """When no sentence fits, the best one is shortened with an ellipsis."""
    article = " ".join(["Officials"] + ["confirmed"] * 60) + "."
    summary = ExtractiveSummarizer(max_chars=100).summarize_text("", article)
    assert len(summary.text) <= 100
    assert summary.text.endswith("…")


def test_empty_article_gives_empty_summary() -> None:
    """No sentences, no summary, no error."""
    summary = ExtractiveSummarizer().summarize_text("Title", "  \n\nAdvertisement\n")
    assert summary.sentences == ()
    assert summary.text == ""


_SENTENCE = st.builds(
    lambda words, end: " ".join(words).capitalize() + end,
    st.lists(
        st.sampled_from(["council", "River", "3.5", "Mr.", "said", "flood", "Eden"]),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from([".", "?", "!", '."', ""]),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(_SENTENCE, max_size=25), st.integers(min_value=20, max_value=900))
def test_summary_never_exceeds_the_limit(sentences: list[str], limit: int) -> None:
    """Whatever the article, the summary fits in ``max_chars``."""
    summary = ExtractiveSummarizer(max_chars=limit).summarize_text("", "\n\n".join(sentences))
    assert len(summary.text) <= limit
    assert len(summary.sentences) <= 3


async def test_async_summarize_matches_the_pure_core() -> None:
    """``summarize`` gives what ``summarize_text`` gives, off the event loop."""
    summarizer = ExtractiveSummarizer()
    doc = Document(title="Floods in Carlisle", text=ARTICLE)
    assert await summarizer.summarize(doc) == summarizer.summarize_text(doc.title, doc.text)
    assert summarizer.key == "extractive-2"


DOCS = (
    Document(
        title="Carlisle floods",
        text="Floodwater forced 3,000 people from their homes in Carlisle on Sunday. "
        "The River Eden reached 7.9 metres. Schools stay closed until Wednesday.",
    ),
    Document(
        title="Army helps Carlisle",
        text="Floodwater forced 3,000 people from their homes in Carlisle on Sunday. "
        "The army sent 200 soldiers to fill sandbags in Carlisle. "
        "Forecasters expect more rain in Cumbria on Tuesday.",
    ),
    Document(
        title="Insurers count the cost",
        text="Insurers expect Carlisle flood claims to pass 50 million pounds. "
        "Claims handlers arrive in Cumbria on Monday.",
    ),
)


async def test_topic_summary_cites_each_sentence_and_drops_repeats() -> None:
    """Every sentence cites the document it came from first, then every other one that
    says it again; a fact two outlets report is said once, citing both."""
    summary = await ExtractiveSummarizer().summarize_topic("carlisle floods", DOCS)
    assert len(summary.cites) == len(summary.sentences) >= 2
    for sentence, cites in zip(summary.sentences, summary.cites, strict=True):
        assert all(sentence in split_sentences(DOCS[doc].text) for doc in cites)
    repeated = "Floodwater forced 3,000 people from their homes in Carlisle on Sunday."
    assert summary.sentences.count(repeated) == 1
    assert summary.cites[summary.sentences.index(repeated)] == (0, 1)
    firsts = [cites[0] for cites in summary.cites]
    assert firsts == sorted(firsts)  # grouped by source, best first


async def test_topic_summary_respects_its_limits() -> None:
    """A topic summary stays within its sentence and character limits."""
    summarizer = ExtractiveSummarizer(topic_max_chars=200, topic_sentences=2)
    summary = await summarizer.summarize_topic("carlisle", DOCS)
    assert len(summary.sentences) <= 2
    assert len(summary.text) <= 200


async def test_topic_summary_of_nothing_is_empty() -> None:
    """No documents, an empty summary."""
    summary = await ExtractiveSummarizer().summarize_topic("carlisle", [])
    assert (summary.sentences, summary.cites) == ((), ())
