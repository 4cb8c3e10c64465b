"""Sentence splitting for news prose.

News text breaks naive splitters: titles and initials end in a full stop ("Gen. Mark A.
Milley"), so do multi-letter abbreviations ("the U.S. Navy"), quotations end with ``."``,
and pages carry bylines, datelines, photo captions and "Read more" lines that are not part
of the story. :func:`segment` turns article text into the story's sentences, each tagged
with its paragraph and position; boilerplate lines are dropped so no summarizer can pick
them. Everything here is pure and deterministic.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "Sentence",
    "is_terminated",
    "segment",
    "split_plain",
    "split_sentences",
    "strip_invisible",
]


@dataclass(frozen=True)
class Sentence:
    """One sentence of an article.

    Attributes:
        text: The sentence, whitespace-normalised, dateline removed.
        position: 0-based index among the article's kept sentences.
        paragraph: 0-based index of the paragraph it came from.
        balanced: False when its quotation marks do not pair up (a fragment of a quote
            that spans paragraphs), which makes it a poor pick on its own.
    """

    text: str
    position: int
    paragraph: int
    balanced: bool = True


def _wordset(words: str) -> frozenset[str]:
    """A set of words written as one space-separated string."""
    return frozenset(words.split())


# Zero-width and bidirectional controls hide text from readers while models and regexes
# still see it; BOM and soft hyphen break word matching.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufeff\uffa0\ufff0-\ufffb]"
)

# A full stop after these never ends a sentence: they always precede a name or a number.
_TITLES = _wordset(
    """mr mrs ms dr gen sen rep gov lt col sgt capt cpt maj adm cmdr cdr prof rev hon pres
    supt det insp fr messrs mt vol fig vs v cf approx dept gens reps sens brig cpl pvt atty
    mme mlle"""
)
# These may end a sentence ("... voted no.", "... on Baker St.") but usually precede a
# number or a name ("No. 10", "St. Johnstone").
_AMBIGUOUS = _wordset(
    """jan feb mar apr jun jul aug sep sept oct nov dec inc co corp ltd bros etc al no nos
    st ft sr jr est"""
)
# Words that start a sentence far more often than they continue a name; after an
# ambiguous abbreviation ("U.S.", "Inc.") a split happens only before one of these.
_STARTERS = _wordset(
    """the a an he she it they we i you but and so yet or in on at by for to from with this
    that these those his her its their our my there here what when where why how who while
    after before as if however meanwhile also now then still some many most one no nor
    mr mrs ms dr"""
)

_BOUNDARY = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_NEXT_WORD = re.compile(r"\s+([\"'“‘«(\[]*)([\w'’-]*)")
_MULTI_DOT = re.compile(r"^(?:[A-Za-z]\.){2,}$|^(?:[A-Za-z]\.)+[A-Za-z]$")

_DATELINE = re.compile(
    r"^(?:[A-Z][\w.'’-]*(?:[ ,]+[A-Z][\w.'’-]*){0,4},?\s*"
    r"(?:[A-Z][a-z]{2,8}\.? \d{1,2}\s*)?)?"
    r"\((?:AP|Reuters|CNN|AFP|UPI|Bloomberg|PA|dpa|Xinhua|AAP|CP|ANI|IANS|PTI)\)\s*"
    r"(?:[—–-]{1,2}\s*)?"
    r"|^[A-Z]{2,}[A-Z.'’-]*(?:[ ,]+[A-Z][\w.'’-]*){0,4}\s*[—–]\s*"
    r"|^[A-Z]{2,}[A-Z.'’-]*(?:[ ,]+[A-Z][\w.'’-]*){0,4}\s*--\s*"
)

_BOILERPLATE = re.compile(
    r"""^(?:
        (?:read|see|watch|click|tap|scroll|swipe|continue)\b.{0,40}
            \b(?:more|here|below|down|video|videos|gallery|reading|story|also)\b[\s.:!]*
      | (?:read\ more|related|recommended|more\ on\ this|see\ also|also\ read|watch|listen)
            \s*[:|>»-].*
      | (?:watch|listen\ to|follow)\b.{0,80}\blive\b.*
      | advertisement | sponsored | story\ continues\ below.*
      | share\ (?:this|or\ comment).* | follow\ (?:us|@).* | sign\ up\b.* | subscribe\b.*
      | (?:image|photo|picture|video)\ (?:copyright|caption|source|credit).*
      | media\ playback\ is\ (?:not\ supported|unsupported).*
      | (?:photo|photograph|image|picture|pictured|caption|credit|source|copyright)\s*[:©].*
      | (?:all\ rights\ reserved).*
      | (?:published|updated|last\ (?:updated|modified))\b(?=.*\d).{0,60}
      | (?-i:By|BY)\ (?-i:[A-Z][\w.'’-]*(?:\ [A-Z][\w.'’-]*){0,3})(?:\s*[,|/-].{0,60})?
      | this\ (?:article|story)\ (?:was\ )?(?:originally|first)\ (?:published|appeared).*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# Every pattern above starts with one of these words; other lines skip the long pattern.
_BOILERPLATE_WORDS = _wordset(
    """read see watch click tap scroll swipe continue related recommended more also listen
    follow advertisement sponsored story share sign subscribe image photo picture video media
    photograph pictured caption credit source copyright all published updated last by this"""
)
_CREDIT_LINE = ("contributed to this report.", "contributed to this report")
# Picture captions name where people stand; a photo label opens many tabloid captions.
_CAPTION_HINT = re.compile(
    r"\((?:left|right|centre|center|top|bottom|above|below|pictured|inset|file|"
    r"(?:far |second |top |bottom |pictured |centre |center )?(?:left|right)|"
    r"pictured[^)]*|file photo|main|middle)\)",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^([A-Z][\w'’-]*(?: [\w'’-]+){0,2}):\s+\S")
_SPEECH = re.compile(
    r"\b(?:said|says|say|told|added|adds|wrote|writes|explained|tweeted|asked|insisted|"
    r"claimed|stated|declared|warned|argued|continued|replied|posted)\b",
    re.IGNORECASE,
)
# A "quotation" longer than this is almost surely a stray apostrophe paired with a far
# quote mark; keeping it whole would glue unrelated sentences together.
_LONGEST_QUOTE = 800
_CLOSING_MARKS = "\"'”’»)]"
_DATELINE_HINT = re.compile(r"[(—–]|--")
_QUOTE_MARK = re.compile("[\"“”'‘’]")
_THREE_LETTERS = re.compile(r"[^\W\d_](?:.*?[^\W\d_]){2}", re.DOTALL)


def strip_invisible(text: str) -> str:
    """Remove invisible and bidirectional-control characters and normalise to NFC.

    Args:
        text: Any text.

    Returns:
        The text without zero-width, bidi-control or other invisible code points.
    """
    return _INVISIBLE.sub("", unicodedata.normalize("NFC", text))


def is_terminated(text: str) -> bool:
    """Tell whether text ends like a sentence: with . ! ? or …, perhaps inside quotes.

    Args:
        text: A sentence or line.

    Returns:
        True if its last mark, closing quotes and brackets aside, ends a sentence.
    """
    return text.rstrip(_CLOSING_MARKS)[-1:] in (".", "!", "?", "…")


def split_sentences(text: str) -> tuple[str, ...]:
    """Split article text into the story's sentences, boilerplate removed.

    Args:
        text: Plain article text, paragraphs separated by line breaks.

    Returns:
        The sentences in article order.
    """
    return tuple(s.text for s in segment(text))


def split_plain(text: str) -> tuple[str, ...]:
    """Split text that is not a web page (a model's reply, say) into sentences, keeping
    every piece: nothing is dropped as boilerplate or as too short.

    Args:
        text: Plain text; line breaks end a sentence too.

    Returns:
        The pieces in order, whitespace-normalised.
    """
    pieces: list[str] = []
    for line in strip_invisible(text).splitlines():
        line = " ".join(line.split())
        if line:
            pieces += _split_paragraph(line)[0]
    return tuple(pieces)


def segment(text: str) -> tuple[Sentence, ...]:
    """Split article text into :class:`Sentence` objects, boilerplate removed.

    Args:
        text: Plain article text, paragraphs separated by line breaks.

    Returns:
        The kept sentences in article order, numbered from 0.
    """
    out: list[Sentence] = []
    for number, paragraph in enumerate(_paragraphs(text)):
        pieces, paired = _split_paragraph(paragraph)
        for piece in pieces:
            if not _is_sentence(piece) or _is_credit(piece):
                continue
            # Splits never cut a quotation, so a paragraph whose marks all pair up has
            # sentences whose marks pair up; only the others need a look of their own.
            balanced = paired or _quotes_balanced(piece)
            out.append(Sentence(piece, len(out), number, balanced))
    return tuple(out)


def _paragraphs(text: str) -> list[str]:
    """Cut text into paragraphs, rejoining hard-wrapped lines and dropping boilerplate."""
    lines = [" ".join(line.split()) for line in strip_invisible(text).splitlines()]
    merged: list[str] = []
    for line in lines:
        if merged and line and merged[-1] and _is_wrapped(merged[-1], line):
            merged[-1] = f"{merged[-1]} {line}"
        else:
            merged.append(line)
    return [_strip_dateline(p) for p in merged if p and not _is_boilerplate(p)]


def _strip_dateline(paragraph: str) -> str:
    """Remove a leading dateline ("WASHINGTON (AP) — ") from a paragraph."""
    if not _DATELINE_HINT.search(paragraph, 0, 80):
        return paragraph  # the common case, answered without the long pattern
    return _DATELINE.sub("", paragraph, count=1)


def _is_wrapped(previous: str, line: str) -> bool:
    """Tell whether ``line`` continues ``previous`` (a hard-wrapped plain-text file)."""
    return not is_terminated(previous) and line[0].islower()


def _is_boilerplate(line: str) -> bool:
    """Tell whether a whole line is page furniture rather than story text."""
    first = line.split(" ", 1)[0].rstrip(":").lower()
    if first in _BOILERPLATE_WORDS and _BOILERPLATE.match(line):
        return True
    if line.startswith("©") or _is_credit(line):
        return True  # "© 2024 Example News", "CNN's Jane Roe contributed to this report."
    if "(" in line and _CAPTION_HINT.search(line):
        return True
    if line.isupper() and len(line) < 80:
        return True  # all-caps subheads ("WHAT THE VIDEO SHOWS.")
    label = _LABEL.match(line)
    if label and not _SPEECH.search(label.group(1)):
        return True  # tabloid captions and sidebars: "Sacked: But Clarkson ...", "Profile: X"
    return not is_terminated(line) and len(line.split()) < 12


def _is_credit(sentence: str) -> bool:
    """Tell whether a short line only credits reporters."""
    return len(sentence) < 100 and sentence[-30:].lower().endswith(_CREDIT_LINE)


def _split_paragraph(paragraph: str) -> tuple[list[str], bool]:
    """Split one paragraph at sentence boundaries that are not inside a quotation.

    Returns:
        The pieces, and whether all of the paragraph's quotation marks pair up.
    """
    quoted, paired = _scan_quotes(paragraph)
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(paragraph):
        end = match.end()
        if _inside(end, quoted) or not _ends_sentence(paragraph, match):
            continue
        pieces.append(paragraph[start:end].strip())
        start = end
    pieces.append(paragraph[start:].strip())
    return [p for p in pieces if p], paired


def _ends_sentence(text: str, match: re.Match[str]) -> bool:
    """Decide whether the punctuation run ``match`` ends a sentence."""
    nxt = _NEXT_WORD.match(text, match.end())
    if nxt is None:
        return True
    opener, word = nxt.group(1), nxt.group(2)
    if not opener and not (word[:1].isupper() or word[:1].isdigit()):
        return False  # "e.g. this", "he said. and" — lower case continues the sentence
    if not match.group().startswith(".") or match.group().startswith(".."):
        return True
    end = match.start() + 1
    token = text[text.rfind(" ", 0, end) + 1 : end].lstrip("\"'“‘«([")
    return _abbreviation_allows(token, word, opener)


def _abbreviation_allows(token: str, word: str, opener: str) -> bool:
    """Decide a split after ``token.`` given the next word (the abbreviation rules)."""
    bare = token.rstrip(".").lower()
    starts = bool(opener.strip("([")) or (word[:1].isupper() and word.lower() in _STARTERS)
    if bare in _TITLES:
        return False
    if len(bare) == 1 and token[:1].isupper():
        return False  # an initial: "John F. Kennedy"
    if _MULTI_DOT.match(token) or bare in _AMBIGUOUS:
        return starts and not word[:1].isdigit()
    return True


def _scan_quotes(text: str) -> tuple[list[tuple[int, int]], bool]:
    """Pair up the quotation marks of ``text``.

    Quotations nest ("she said, 'No.'"), so open ones are kept on a stack; a closing mark
    closes the innermost quotation it fits and any left open inside it.

    Returns:
        The (open, close) index pairs, and whether every mark was paired (nothing left
        open, nothing closed that opened before the text).
    """
    marks = [m.start() for m in _QUOTE_MARK.finditer(text)]
    spans: list[tuple[int, int]] = []
    stack: list[tuple[int, str]] = []
    orphan = False
    for k, i in enumerate(marks):
        depth = _closing_depth(text, i, stack, marks[k + 1 :])
        if depth is not None:
            if i - stack[depth][0] <= _LONGEST_QUOTE:
                spans.append((stack[depth][0], i))
            del stack[depth:]
        elif closer := _opening(text, i):
            stack.append((i, closer))
        else:
            orphan = orphan or _orphan_close(text, i)
    return spans, not stack and not orphan


def _closing_depth(text: str, i: int, stack: list[tuple[int, str]], later: list[int]) -> int | None:
    """Return the stack index of the quotation the mark at ``i`` closes, if any."""
    for depth in range(len(stack) - 1, -1, -1):
        if _closes_here(text, i, stack[depth][1], later):
            return depth
    return None


def _opening(text: str, i: int) -> str:
    """Return the closing marks for a quotation opened at ``i``, or "" if none opens."""
    ch = text[i]
    before = text[i - 1] if i else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    if ch == "“":
        return '”"'
    if ch == '"' and (before.isspace() or before in "([—–-:") and not after.isspace():
        return '"”'
    if ch in "‘'" and (before.isspace() or before in "([—–-:") and after.isalnum():
        return "’'"
    return ""


def _closes_here(text: str, i: int, closer: str, later: list[int]) -> bool:
    """Tell whether the mark at ``i`` closes the open quotation whose closers are given.

    After an "s" a single mark may be a plural possessive ("the players' union") or the
    end of a quotation ("called them 'yobs' on air"): it closes only if no unambiguous
    closing mark follows (``later`` are the positions of the marks after ``i``).
    """
    if text[i] not in closer or not _may_close(text, i):
        return False
    if not _is_possessive(text, i):
        return True
    return not any(
        text[j] in closer and _may_close(text, j) and not _is_possessive(text, j) for j in later
    )


def _may_close(text: str, i: int) -> bool:
    """A closing mark is never followed by a letter or digit (that is an apostrophe)."""
    return i + 1 >= len(text) or not text[i + 1].isalnum()


def _is_possessive(text: str, i: int) -> bool:
    """Tell whether a single mark could be a plural possessive: "s'" before a space."""
    before = text[i - 1] if i else " "
    after = text[i + 1] if i + 1 < len(text) else ""
    return text[i] in "’'" and before in "sS" and after.isspace()


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    """Tell whether a split at ``position`` would cut a quotation in two."""
    return any(start < position <= end for start, end in spans)


def _is_sentence(piece: str) -> bool:
    """Keep pieces that carry words, not stray punctuation or a lone list marker."""
    return _THREE_LETTERS.search(piece) is not None and " " in piece


def _quotes_balanced(sentence: str) -> bool:
    """Tell whether a sentence's quotation marks pair up."""
    if sentence.count('"') % 2 or sentence.count("“") != sentence.count("”"):
        return False
    return _scan_quotes(sentence)[1]


def _orphan_close(text: str, i: int) -> bool:
    """Tell whether a single mark at ``i`` closes a quotation opened before the text."""
    before = text[i - 1] if i else " "
    if text[i] not in "’'" or before.isspace() or not _may_close(text, i):
        return False
    return not _is_possessive(text, i)
