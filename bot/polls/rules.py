"""Reader polls: proposals from an article, tallies and results text. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import UserInputError
from bot.i18n import _, ngettext
from bot.types import PollPolicy
from summarizer.base import PollProposal

MAX_QUESTION = 300  # Telegram and Discord both allow 300
MAX_OPTION = 55  # Discord's limit (Telegram allows 100)
MIN_OPTIONS, MAX_OPTIONS = 2, 10
_URL_RE = re.compile(r"(https?://|www\.)\S+|@\w+|<[@#][!&]?\d+>", re.IGNORECASE)
_QUESTION_RE = re.compile(r"[^.!?\n]*\?")
_READER_OPENERS = re.compile(
    r"^(do|does|did|is|are|was|were|should|would|will|can|could|has|have|what|which|who|how)"
    r"\b.*\b(you|your|readers?)\b|^(should|would|will|is|are|do|does|can|could)\b",
    re.IGNORECASE,
)
_YES_NO = re.compile(
    r"^(do|does|did|is|are|was|were|should|would|will|can|could|has|have)\b", re.IGNORECASE
)
_RIGHT_WRONG = re.compile(r"\bright or wrong\b", re.IGNORECASE)
_A_OR_B = re.compile(r"^(.*\S) or ([\w'’-]+(?: [\w'’-]+){0,3})\?$")


@dataclass(frozen=True)
class Tally:
    """A poll's results: counts per option (summed over every platform poll) and voters."""

    question: str
    options: tuple[str, ...]
    counts: tuple[int, ...]
    closed: bool

    @property
    def total(self) -> int:
        """Total votes."""
        return sum(self.counts)

    def percent(self, index: int) -> float:
        """Share of option ``index`` in percent (0 when nobody voted)."""
        return 100.0 * self.counts[index] / self.total if self.total else 0.0


def reader_question(text: str) -> str | None:
    """The question an article asks its readers near its end, kept as written."""
    paragraphs = [p.strip() for p in text.strip().split("\n") if p.strip()]
    for paragraph in reversed(paragraphs[-3:]):
        for match in reversed(_QUESTION_RE.findall(paragraph)):
            question = str(match).strip().strip("\"“”'")
            if 10 <= len(question) <= MAX_QUESTION and _READER_OPENERS.search(question):
                return question
    return None


def options_for(question: str) -> tuple[str, ...] | None:
    """Options that follow from the question's form, or None when it has none (in the
    current locale: the words are newsbrief's)."""
    if _RIGHT_WRONG.search(question):
        return (_("Right"), _("Wrong"), _("Not sure"))
    either = _A_OR_B.search(question)
    if either:
        # "the bus or the train?": the first option has as many words as the second
        second_words = either.group(2).split()
        first = _tidy_option(" ".join(either.group(1).split()[-len(second_words) :]))
        second = _tidy_option(either.group(2))
        if first and second and first.lower() != second.lower() and not _YES_NO.match(first):
            return (first, second, _("Not sure"))
    if _YES_NO.match(question):
        return (_("Yes"), _("No"), _("Not sure"))
    return None


def _tidy_option(text: str) -> str:
    text = text.strip(" ,;:'\"“”")
    return text[:1].upper() + text[1:MAX_OPTION] if text else ""


def propose_from_article(text: str) -> PollProposal | None:
    """A poll from the article's own question to readers, if it asks one."""
    question = reader_question(text)
    if question is None:
        return None
    options = options_for(question)
    return PollProposal(question, options) if options else None


def valid_proposal(proposal: PollProposal | None) -> PollProposal | None:
    """The proposal if it fits both platforms and carries no link or mention, else None."""
    if proposal is None:
        return None
    question = proposal.question.strip()
    options = tuple(o.strip() for o in proposal.options)
    if not question or len(question) > MAX_QUESTION or _URL_RE.search(question):
        return None
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS or len(set(options)) != len(options):
        return None
    if any(not o or len(o) > MAX_OPTION or _URL_RE.search(o) for o in options):
        return None
    return PollProposal(question, options)


def choose_poll(
    policy: PollPolicy, article_text: str, llm: PollProposal | None, title: str
) -> PollProposal | None:
    """The poll a channel's post carries: the article's own question first, then the
    LLM's; ``always`` falls back to a plain opinion poll, ``never`` gives none."""
    if policy is PollPolicy.NEVER:
        return None
    proposal = valid_proposal(propose_from_article(article_text)) or valid_proposal(llm)
    if proposal is None and policy is PollPolicy.ALWAYS:
        asked = _("How do you see this story: {title}").format(title=title)
        question = asked[: MAX_QUESTION - 1].rstrip() + "?"
        proposal = PollProposal(question, (_("Good news"), _("Bad news"), _("Not sure")))
    return proposal


def parse_custom_poll(args: str) -> PollProposal:
    """``Question? | Option A | Option B`` from ``/poll``.

    Raises:
        UserInputError: not 2-10 options, or a part too long or carrying a link.
    """
    parts = [p.strip() for p in args.split("|")]
    if len(parts) < 3 or not parts[0]:
        raise UserInputError(_("Usage: /poll Question? | Option A | Option B (2 to 10 options)"))
    proposal = valid_proposal(PollProposal(parts[0], tuple(parts[1:])))
    if proposal is None:
        raise UserInputError(
            _(
                "A poll needs a question of at most {question} characters and 2-10 different "
                "options of at most {option} characters, with no links or mentions."
            ).format(question=MAX_QUESTION, option=MAX_OPTION)
        )
    return proposal


def tally(
    question: str,
    options: Sequence[str],
    votes: Sequence[Sequence[int]],
    counts: Sequence[Sequence[int]],
    closed: bool,
) -> Tally:
    """Sum per-user votes (each a list of option indexes) and counts-only platform polls."""
    totals = [0] * len(options)
    for chosen in votes:
        for index in chosen:
            if 0 <= index < len(totals):
                totals[index] += 1
    for row in counts:
        for index, count in enumerate(row[: len(totals)]):
            totals[index] += max(0, int(count))
    return Tally(question, tuple(options), tuple(totals), closed)


def results_text(t: Tally) -> str:
    """Results as text: each option with count and percentage, the total, open or closed."""
    width = max(len(o) for o in t.options)
    lines = [t.question, ""]
    for i, option in enumerate(t.options):
        lines.append(f"{option:<{width}}  {t.counts[i]:>4}  {t.percent(i):5.1f}%")
    votes = ngettext("{count} vote", "{count} votes", t.total).format(count=t.total)
    state = _("poll closed") if t.closed else _("poll open")
    lines += ["", f"{votes} · {state}"]
    return "\n".join(lines)
