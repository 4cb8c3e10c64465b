"""/summary by story: what is new since a chat last asked, a dated timeline, other
matching stories one line each; and the pure parts of the answer."""

from __future__ import annotations

from dataclasses import replace

from bot.chat.service import Service, summary_reply
from bot.chat.stories import answer_text, cited, new_since, pick_sources, timeline
from bot.chat.topics import Cited, StoryBrief, TopicAnswer
from bot.clock import ManualClock
from bot.store.sqlite import SqliteStore
from bot.types import Article, ChatRef, Feed, FeedUpdate, Routed, StoryAsk
from summarizer.base import Summary
from summarizer.extractive import ExtractiveSummarizer
from tests.bot.helpers import article, core, make_feed

GROUP, TOPIC = ChatRef("telegram", "-100"), ChatRef("telegram", "-100", "42")
DAY = 86400.0
PLANES = (
    "Russian planes land in Venezuela",
    "Russia sent two military planes to Caracas on Sunday, officials in Venezuela said. "
    "The aircraft carried about 100 troops and equipment for the government.",
)
SANCTIONS = (
    "Washington answers Moscow over Venezuela",
    "The United States condemned the Russian deployment to Venezuela on Monday. "
    "The Treasury announced new sanctions on Venezuelan oil exports in answer.",
)
PLANES_AGAIN = (
    "Venezuela: the troops stay",
    "Russia sent two military planes to Caracas on Sunday, officials in Venezuela said. "
    "Moscow said its troops would stay in Venezuela as long as needed.",
)
ELECTION = (
    "Venezuela sets a date for elections",
    "Venezuela's electoral council set presidential elections for December, officials said. "
    "Opposition parties asked Russia to withdraw its troops before the vote.",
)


async def _tell(
    store: SqliteStore, feed: Feed, n: int, told: tuple[str, str], story: int | None, at: float
) -> int:
    new = replace(article(feed, n, told[1], told[0]), story=story, published=at)
    [stored] = await store.articles.save_ingest(
        FeedUpdate(feed.id, at, at + 600), [Routed(new, ())]
    )
    return stored


def _service(store: SqliteStore, clock: ManualClock) -> Service:
    return core(store, clock, summarizer=ExtractiveSummarizer()).service


async def test_summary_says_what_is_new_since_this_chat_last_asked(
    store: SqliteStore, clock: ManualClock
) -> None:
    """A chat's second /summary of a story shows, apart, the sentences its new sources
    added (citing them), and nothing it was shown before; another chat (a topic of the
    same group) asks for the first time; asked again, nothing is new."""
    service = _service(store, clock)
    wire, paper = (
        await make_feed(store, "https://wire.test/rss"),
        await make_feed(store, "https://paper.test/rss"),
    )
    first = await _tell(store, wire, 1, PLANES, None, clock.now() - 3600)
    before = await service.topic("venezuela russia", chat=GROUP)
    assert not before.asked_before and before.new == ()
    await _tell(store, paper, 2, SANCTIONS, first, clock.now())
    after = await service.topic("venezuela russia", chat=GROUP)
    assert after.asked_before and after.new
    assert all(2 in s.sources for s in after.new)
    assert {s.text for s in after.new}.isdisjoint(s.text for s in before.sentences)
    text = summary_reply(after).text
    assert "New since this chat last asked:" in text
    assert text.index("New since") < text.index(after.new[0].text)
    other_chat = await service.topic("venezuela russia", chat=TOPIC)
    assert not other_chat.asked_before
    again = await service.topic("venezuela russia", chat=GROUP)
    assert (
        again.new == () and "Nothing new since this chat last asked." in summary_reply(again).text
    )


async def test_a_story_over_days_has_a_dated_timeline(
    store: SqliteStore, clock: ManualClock
) -> None:
    """A story whose reports span more than a day gets one dated line per day, each
    citing its source; another matching story is one numbered line, its link a source."""
    service = _service(store, clock)
    wire, paper = (
        await make_feed(store, "https://wire.test/rss"),
        await make_feed(store, "https://paper.test/rss"),
    )
    first = await _tell(store, wire, 1, PLANES, None, clock.now() - 2 * DAY)
    await _tell(store, paper, 2, PLANES_AGAIN, first, clock.now())
    await _tell(store, paper, 3, ELECTION, None, clock.now() - DAY)
    answer = await service.topic("russia venezuela troops", chat=GROUP)
    assert answer.story is not None and answer.story.id == first
    assert answer.timeline == (
        "13 Jan: Russian planes land in Venezuela [1]",
        "15 Jan: Venezuela: the troops stay [2]",
    )
    assert answer.others == ("[3] Venezuela sets a date for elections (1 source, 14 Jan)",)
    assert answer.sources[2].url == "https://news.test/3"
    text = summary_reply(answer).text
    assert "Timeline:\n13 Jan" in text and "Other stories:\n[3] Venezuela sets" in text


def _article(n: int, published: float, feed: int = 1) -> Article:
    return Article(n, feed, f"g{n}", f"u{n}", f"u{n}", f"Title {n}", "", published, 1, "h")


def test_sources_are_the_first_telling_and_the_latest_in_time_order() -> None:
    """A long story is read from its first telling and its latest reports, oldest first."""
    story = [_article(n, 1000.0 - n) for n in range(1, 10)]
    picked = pick_sources(story, limit=4)
    assert [a.id for a in picked] == [9, 3, 2, 1]


def test_a_sentence_citing_nothing_is_left_out_never_given_a_source() -> None:
    """Citations number sources from 1; a sentence without one is dropped."""
    summary = Summary("", ("A.", "B.", "C."), "llm", cites=((0,), (), (1, 2)))
    assert cited(summary) == (Cited("A.", (1,)), Cited("C.", (2, 3)))


def test_new_rests_on_sources_since_the_last_ask_and_repeats_nothing_shown() -> None:
    """Only sentences citing a source that joined since, and saying nothing shown, are new."""
    sources = [_article(1, 10.0), _article(5, 20.0)]
    shown = ("The council set elections for December.",)
    sentences = (
        Cited("Old news from the first report.", (1,)),
        Cited("The council set elections for December.", (1, 2)),
        Cited("The opposition called the date too early.", (2,)),
    )
    ask = StoryAsk(last_article=1, shown=shown)
    assert new_since(sentences, sources, ask) == (sentences[2],)
    assert new_since(sentences, sources, None) == ()


def test_a_story_within_a_day_has_no_timeline() -> None:
    """Reports all within a day make no timeline."""
    story = [_article(1, 0.0), _article(2, DAY - 1)]
    assert timeline(story, story) == ()


def test_answer_text_puts_new_sentences_apart_and_says_when_nothing_is_new() -> None:
    """The summary keeps its old sentences; new ones come under their heading; a chat
    asking again with nothing new is told so; more reports with nothing new are named."""
    old, new = Cited("Old fact.", (1,)), Cited("New fact.", (2,))
    answer = TopicAnswer("t", "", (), "extractive", StoryBrief(1, "T", 2), (old, new), (new,), True)
    assert answer_text(answer) == "Old fact. [1]\n\nNew since this chat last asked:\nNew fact. [2]"
    nothing = replace(answer, new=())
    assert answer_text(nothing).endswith("Nothing new since this chat last asked.")
    more = replace(answer, new=(), fresh=(2,))
    assert answer_text(more).endswith("more reports [2], nothing new in them.")
    first = replace(answer, new=(), asked_before=False)
    assert answer_text(first) == "Old fact. [1] New fact. [2]"
