"""Stories as readers see them: what a chat has been told of a story, and ``/summary``
answered by story (its sources, cited sentences, what is new since the chat last asked, a
dated timeline). Pure functions of stored articles, summaries and what a chat was told.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot.chat.topics import Cited, StoryBrief, TopicAnswer
from bot.i18n import _, day_month, ngettext
from bot.types import Article, Source, Story, StoryAsk
from summarizer.base import Summary
from summarizer.extractive import Tuning
from summarizer.terms import overlap, term_set

# A sentence whose terms overlap a sentence told already by more than this repeats it: the
# extractive summarizer's cross-validated redundancy cosine, one definition of "says the
# same thing again".
REPEAT = Tuning().redundancy
MAX_TOLD = 200  # sentences remembered per story and chat (a long story's oldest go first)
MAX_SOURCES = 6  # sources a /summary of a story reads: its first telling and the latest
TIMELINE_DAYS = 5  # days a /summary's timeline shows at most (the latest)
DAY = 86400.0


def sources_line(count: int) -> str:
    """How a story's number of sources reads: ``1 source so far``, ``3 sources so far``."""
    return ngettext("{count} source so far", "{count} sources so far", count).format(count=count)


def untold(sentences: Sequence[str], told: Sequence[str]) -> tuple[str, ...]:
    """The sentences that repeat nothing told already (nor one another), in order."""
    seen = [term_set(t) for t in told]
    fresh: list[str] = []
    for sentence in sentences:
        terms = term_set(sentence)
        if any(overlap(terms, other) > REPEAT for other in seen):
            continue
        fresh.append(sentence)
        seen.append(terms)
    return tuple(fresh)


def told_after(told: Sequence[str], sentences: Sequence[str]) -> tuple[str, ...]:
    """What a chat has been told of a story once ``sentences`` are told too (the latest
    :data:`MAX_TOLD`)."""
    known = set(told)
    added = [s for s in dict.fromkeys(sentences) if s not in known]
    return (*told, *added)[-MAX_TOLD:]


def pick_sources(story: Sequence[Article], limit: int = MAX_SOURCES) -> list[Article]:
    """The articles a summary of a story reads: its first telling and the latest others,
    oldest first (their order numbers them)."""
    ordered = sorted(story, key=lambda a: (a.published, a.id))
    if len(ordered) <= limit:
        return ordered
    return [ordered[0], *ordered[1:][-(limit - 1) :]]


def cited(summary: Summary) -> tuple[Cited, ...]:
    """The summary's sentences with their sources numbered from 1; a sentence citing no
    source is left out, never given one."""
    if len(summary.cites) != len(summary.sentences):
        return ()
    return tuple(
        Cited(text, tuple(n + 1 for n in cites))
        for text, cites in zip(summary.sentences, summary.cites, strict=True)
        if cites
    )


def new_since(
    sentences: Sequence[Cited], sources: Sequence[Article], ask: StoryAsk | None
) -> tuple[Cited, ...]:
    """The sentences added since a chat last asked about the story: resting on a source
    that joined the story since, and repeating nothing the chat was shown then."""
    if ask is None:
        return ()
    fresh = fresh_sources(sources, ask)
    candidates = [s for s in sentences if fresh & set(s.sources)]
    kept = set(untold([s.text for s in candidates], ask.shown))
    return tuple(s for s in candidates if s.text in kept)


def fresh_sources(sources: Sequence[Article], ask: StoryAsk) -> set[int]:
    """The numbers of the sources that joined the story after a chat last asked."""
    return {n for n, a in enumerate(sources, start=1) if a.id > ask.last_article}


def timeline(story: Sequence[Article], sources: Sequence[Article]) -> tuple[str, ...]:
    """A short dated timeline when the story spans more than a day: each day's first
    source, ``12 May: <title> [n]``, the latest :data:`TIMELINE_DAYS` days."""
    times = [a.published for a in story]
    if not times or max(times) - min(times) <= DAY:
        return ()
    days: dict[str, str] = {}
    for n, article in enumerate(sources, start=1):
        days.setdefault(day_of(article.published), f"{article.title.strip()} [{n}]")
    return tuple(f"{day}: {line}" for day, line in list(days.items())[-TIMELINE_DAYS:])


def day_of(when: float) -> str:
    """A date as readers read it in a timeline: ``12 May``."""
    moment = datetime.fromtimestamp(when, UTC)
    return day_month(moment.day, moment.month)


def story_answer(
    topic: str,
    story: Story,
    sources: Sequence[Article],
    summary: Summary,
    ask: StoryAsk | None,
    others: Sequence[Story],
) -> TopicAnswer:
    """``/summary`` answered by story: the story's summary over its ``sources`` (numbered
    from 1), what is new since the chat's last ``ask``, a timeline, and the ``others``
    numbered after the story's sources."""
    sentences = cited(summary)
    first_other = len(sources) + 1
    return TopicAnswer(
        topic,
        " ".join(marked(s) for s in sentences),
        (*(Source(a.title, a.url, a.feed_name) for a in sources), *map(_lead_source, others)),
        summary.method,
        story=StoryBrief(story.id, story.title, len(sources)),
        sentences=sentences,
        new=new_since(sentences, sources, ask),
        asked_before=ask is not None,
        fresh=tuple(sorted(fresh_sources(sources, ask))) if ask else (),
        timeline=timeline(story.articles, sources),
        others=tuple(_other_line(n, o) for n, o in enumerate(others, start=first_other)),
    )


def _lead_source(story: Story) -> Source:
    """Another matching story as one numbered source: its title, first link, outlets."""
    outlets = list(dict.fromkeys(a.feed_name for a in story.articles if a.feed_name))
    return Source(story.title, story.articles[0].url, ", ".join(outlets[:4]))


def _other_line(number: int, story: Story) -> str:
    outlets = len({a.feed_id for a in story.articles})
    count = ngettext("{count} source", "{count} sources", outlets).format(count=outlets)
    return f"[{number}] {story.title.strip()} ({count}, {day_of(story.last_seen)})"


def marked(sentence: Cited) -> str:
    """A sentence with its citations: ``It rained. [1][3]``."""
    return sentence.text + " " + "".join(f"[{n}]" for n in sentence.sources)


def answer_text(answer: TopicAnswer) -> str:
    """What ``/summary`` says: the story's summary with its citations, what is new since
    the chat last asked, a timeline when the story spans days, other matching stories one
    line each (their links are the numbered sources after the story's)."""
    new = {s.text for s in answer.new}
    blocks = [" ".join(marked(s) for s in answer.sentences if s.text not in new)]
    blocks.append(_new_block(answer))
    if answer.timeline:
        blocks.append("\n".join((_("Timeline:"), *answer.timeline)))
    if answer.others:
        blocks.append("\n".join((_("Other stories:"), *answer.others)))
    text = "\n\n".join(b for b in blocks if b.strip())
    return text or answer.summary


def _new_block(answer: TopicAnswer) -> str:
    if not answer.asked_before:
        return ""
    if answer.new:
        heading = _("New since this chat last asked:")
        return "\n".join((heading, *(marked(s) for s in answer.new)))
    if answer.fresh:
        numbers = "".join(f"[{n}]" for n in answer.fresh)
        note = _("New since this chat last asked: more reports {numbers}, nothing new in them.")
        return note.format(numbers=numbers)
    return _("Nothing new since this chat last asked.")
