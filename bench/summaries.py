"""Summary quality and speed: ROUGE-1/2/L and ms/article on human-written news summaries.

Run ``python -m bench summaries`` from the repository. It scores, in one run and with one
harness, newsbrief's extractive summarizer, Lead-3 (the first three sentences), and sumy's
LexRank, TextRank and SumBasic on ``../shared/corpus/summaries/dev.jsonl``: ROUGE F1 with
stemming, best over each article's references, averaged over articles. Every system gets
the same sentences (newsbrief's splitter, boilerplate removed), so the table compares how
systems choose sentences, not how they split them. sumy runs offline: it gets a regex word
tokenizer instead of NLTK's, whose data would have to be downloaded.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rouge_score import rouge_scorer

from summarizer.extractive import ExtractiveSummarizer
from summarizer.sentences import split_sentences

__all__ = ["CORPUS", "Example", "Score", "compare", "evaluate", "lead_3", "load_examples", "main"]

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "summaries" / "dev.jsonl"
_METRICS = ("rouge1", "rouge2", "rougeL")
_SUMY_SENTENCES = 3  # as many as Lead-3, the usual setting for these baselines
_ROUNDS = 5

Summarize = Callable[[str], str]


@dataclass(frozen=True)
class Example:
    """One article with the summaries people wrote for it."""

    id: str
    article: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class Score:
    """A system's mean ROUGE F1 (x100) over the corpus and its mean time per article."""

    rouge1: float
    rouge2: float
    rougeL: float
    ms_per_article: float
    chars: float


def load_examples(path: Path = CORPUS) -> list[Example]:
    """Read the corpus: one JSON object per line with ``id``, ``article``, ``references``.

    Args:
        path: The JSONL file.

    Returns:
        The examples in file order.

    Raises:
        OSError: If the file cannot be read.
        KeyError: If a line lacks a field.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [Example(r["id"], r["article"], tuple(r["references"])) for r in rows]


def evaluate(summarize: Summarize, examples: Sequence[Example]) -> Score:
    """Summarize every example once, and score with ROUGE and time the pass.

    Args:
        summarize: Article text in, summary text out.
        examples: The corpus.

    Returns:
        Mean ROUGE-1/2/L F1 (best over references, x100), ms per article, mean length.
    """
    return compare({"system": summarize}, examples, rounds=1)["system"]


def compare(
    systems: Mapping[str, Summarize], examples: Sequence[Example], rounds: int = 5
) -> dict[str, Score]:
    """Score several systems on one corpus, timing them fairly.

    Each round times one pass of every system in turn, so a busy moment on the machine
    hits them alike; a system's time is its fastest pass (others' work only ever slows a
    pass down), with the garbage collector paused as :mod:`timeit` does.

    Args:
        systems: Display name to summarizer.
        examples: The corpus.
        rounds: Timed passes per system.

    Returns:
        Display name to score, in the order given.
    """
    outputs = {name: [fn(e.article) for e in examples] for name, fn in systems.items()}
    fastest = dict.fromkeys(systems, math.inf)
    for _ in range(rounds):
        for name, fn in systems.items():
            fastest[name] = min(fastest[name], _time_pass(fn, examples))
    n = max(len(examples), 1)
    return {name: _rouge(outputs[name], examples, 1000 * fastest[name] / n) for name in systems}


def _time_pass(summarize: Summarize, examples: Sequence[Example]) -> float:
    """Seconds one pass over the corpus takes, garbage collection paused."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        started = time.perf_counter()
        for example in examples:
            summarize(example.article)
        return time.perf_counter() - started
    finally:
        if collecting:
            gc.enable()


def _rouge(outputs: Sequence[str], examples: Sequence[Example], ms: float) -> Score:
    """Mean best-over-references ROUGE F1 of outputs, as a :class:`Score`."""
    scorer = rouge_scorer.RougeScorer(list(_METRICS), use_stemmer=True)
    totals = dict.fromkeys(_METRICS, 0.0)
    for example, output in zip(examples, outputs, strict=True):
        best = scorer.score_multi(list(example.references), output)
        for metric in _METRICS:
            totals[metric] += best[metric].fmeasure
    n = max(len(examples), 1)
    return Score(
        rouge1=round(100 * totals["rouge1"] / n, 2),
        rouge2=round(100 * totals["rouge2"] / n, 2),
        rougeL=round(100 * totals["rougeL"] / n, 2),
        ms_per_article=ms,
        chars=sum(len(o) for o in outputs) / n,
    )


def lead_3(text: str) -> str:
    """The Lead-3 baseline: the article's first three sentences."""
    return " ".join(split_sentences(text)[:3])


def extractive(text: str) -> str:
    """newsbrief's extractive summarizer in its product configuration."""
    return _EXTRACTIVE.summarize_text("", text).text


_EXTRACTIVE = ExtractiveSummarizer()


class _RegexTokenizer:
    """A sumy tokenizer that needs no NLTK data: our sentences, regex words."""

    language = "english"

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        """The same sentences every other system gets."""
        return split_sentences(paragraph)

    def to_words(self, sentence: str) -> list[str]:
        """Whitespace-separated words that contain a letter."""
        return [w for w in sentence.replace("’", "'").split() if any(c.isalpha() for c in w)]


def sumy_system(name: str) -> Summarize:
    """Build a sumy baseline ("lexrank", "textrank" or "sumbasic") that runs offline.

    Args:
        name: Which sumy summarizer.

    Returns:
        Article text in, its top three sentences (article order) out.

    Raises:
        KeyError: If ``name`` is not one of the three.
    """
    # Imported here so that the ROUGE test, which needs no baseline, stays light.
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
    from sumy.nlp.stemmers import Stemmer
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.sum_basic import SumBasicSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    classes: dict[str, Any] = {
        "lexrank": LexRankSummarizer,
        "textrank": TextRankSummarizer,
        "sumbasic": SumBasicSummarizer,
    }
    system = classes[name](Stemmer("english"))
    system.stop_words = get_stop_words("english")
    tokenizer = _RegexTokenizer()

    def summarize(text: str) -> str:
        sentences = [Sentence(s, tokenizer) for s in split_sentences(text)]
        document = ObjectDocumentModel([Paragraph(sentences)])
        return " ".join(str(s) for s in system(document, _SUMY_SENTENCES))

    return summarize


def systems() -> dict[str, Summarize]:
    """Every system the benchmark compares, by display name."""
    return {
        "newsbrief extractive": extractive,
        "Lead-3": lead_3,
        "sumy LexRank": sumy_system("lexrank"),
        "sumy TextRank": sumy_system("textrank"),
        "sumy SumBasic": sumy_system("sumbasic"),
    }


def render(scores: dict[str, Score], n: int) -> str:
    """Render scores as a Markdown table with the speed ratio against LexRank."""
    lines = [
        f"ROUGE F1 x100 (best over references, stemming) on {n} articles",
        "",
        "| system | ROUGE-1 | ROUGE-2 | ROUGE-L | ms/article | chars |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, s in scores.items():
        lines.append(
            f"| {name} | {s.rouge1:.2f} | {s.rouge2:.2f} | {s.rougeL:.2f} "
            f"| {s.ms_per_article:.2f} | {s.chars:.0f} |"
        )
    ours, lexrank = scores.get("newsbrief extractive"), scores.get("sumy LexRank")
    if ours and lexrank and ours.ms_per_article > 0:
        ratio = lexrank.ms_per_article / ours.ms_per_article
        lines += ["", f"newsbrief extractive is {ratio:.1f}x faster per article than LexRank."]
    return "\n".join(lines)


def main(argv: Sequence[str] = ()) -> int:
    """Run the benchmark and print the table; exit status 2 if the corpus is missing.

    Args:
        argv: Command-line arguments (``--corpus PATH``); ``python -m bench`` passes none.

    Returns:
        The process exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m bench.summaries")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="JSONL file to score")
    args = parser.parse_args(list(argv))
    if not args.corpus.is_file():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    examples = load_examples(args.corpus)
    scores = compare(systems(), examples, rounds=_ROUNDS)
    print(render(scores, len(examples)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
