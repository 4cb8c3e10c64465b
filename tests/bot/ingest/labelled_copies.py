"""A labelled near-duplicate set built from the corpus: syndicated copies of real articles
with small edits (same story), and pairs of different articles (not the same story).

Used by the dedup tests and by ``python -m bench fingerprints``. The edits are the ones
outlets make when they run a wire story: their own intro and outro lines, an ad slot, a
byline, curly quotes, a dropped last paragraph, a few words changed, paragraphs re-wrapped.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MIN_ARTICLE_WORDS = 150


@dataclass(frozen=True)
class Pair:
    """Two texts and whether they tell the same story."""

    first: str
    second: str
    kind: str
    same: bool


def corpus_articles(corpus: Path) -> list[str]:
    """News articles and page bodies from the corpus with at least 150 words."""
    summaries = (corpus / "summaries" / "dev.jsonl").read_text().splitlines()
    gold = (corpus / "pages" / "gold.jsonl").read_text().splitlines()
    texts = [json.loads(line)["article"] for line in summaries]
    texts += [json.loads(line)["gold"] for line in gold]
    return [text for text in texts if len(text.split()) >= MIN_ARTICLE_WORDS]


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def syndicate(text: str) -> str:
    """Own intro line, an ad slot in the middle, an "updated" outro."""
    paragraphs = _paragraphs(text)
    paragraphs.insert(len(paragraphs) // 2, "Advertisement")
    return (
        "Here is what we know so far about this developing story.\n\n"
        + "\n\n".join(paragraphs)
        + "\n\nThis story has been updated with additional details."
    )


def wire(text: str) -> str:
    """Byline, curly quotes, copyright and newsletter outro."""
    body = text.replace('"', "“")
    return (
        f"By Anna Berg, Example Wire\n\n{body}\n\nCopyright 2025 Example Wire. All rights "
        "reserved. Sign up for our morning newsletter to get stories like this in your inbox."
    )


def trimmed(text: str) -> str:
    """The last paragraph dropped (or the last fifth, for one-paragraph texts)."""
    paragraphs = _paragraphs(text)
    if len(paragraphs) > 2:
        return "\n\n".join(paragraphs[:-1])
    words = text.split()
    return " ".join(words[: len(words) * 4 // 5])


def edited(text: str, seed: int) -> str:
    """About one word in 40 replaced, as a copy editor might."""
    rng = random.Random(seed)
    words = text.split(" ")
    for _ in range(max(1, len(words) // 40)):
        words[rng.randrange(len(words))] = rng.choice(["also", "however", "reportedly", "now"])
    return " ".join(words)


def rewrapped(text: str) -> str:
    """Paragraphs merged in twos, and spacing and punctuation changed."""
    paragraphs = _paragraphs(text)
    merged = [" ".join(paragraphs[i : i + 2]) for i in range(0, len(paragraphs), 2)]
    return "\n\n".join(merged).replace(", ", " , ").replace("'", "’")


EDITS: dict[str, Callable[[str, int], str]] = {
    "syndicated": lambda text, _: syndicate(text),
    "wire": lambda text, _: wire(text),
    "last paragraph dropped": lambda text, _: trimmed(text),
    "words edited": edited,
    "re-wrapped": lambda text, _: rewrapped(text),
}


def labelled_pairs(texts: list[str]) -> list[Pair]:
    """Every article with each edited copy of it, every pair of different articles, and
    each article's two halves (the closest thing to two stories on one topic)."""
    pairs = [
        Pair(text, edit(text, n), kind, same=True)
        for n, text in enumerate(texts)
        for kind, edit in EDITS.items()
    ]
    pairs += [
        Pair(a, b, "different articles", same=False)
        for i, a in enumerate(texts)
        for b in texts[i + 1 :]
    ]
    for text in texts:
        words = text.split(" ")
        half = len(words) // 2
        pairs.append(Pair(" ".join(words[:half]), " ".join(words[half:]), "halves", same=False))
    return pairs
