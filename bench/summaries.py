"""Summary quality and speed: ROUGE-1/2/L and ms/article on human-written news summaries.

Run ``python -m bench summaries`` from the repository. It prints two tables.

1. **Held-out quality** (:func:`cross_validate`): every setting of the extractive
   summarizer (:class:`summarizer.extractive.Tuning`) is chosen on training folds from
   :data:`GRID` and scored on the fold it never saw; 5-fold cross-validation, repeated over
   4 shuffles, so 20 held-out folds. Lead-3 and "Lead to length" (the article's first
   sentences up to a length that is itself cross-validated: how much of the gain is length
   alone) are scored on the same folds. The mean and spread over folds are the result.
2. **Everything on the whole dev set** (:func:`compare`): the product configuration (the
   grid's best on all 71 articles: a score on its own tuning data, not a result), Lead-3,
   and sumy's LexRank, TextRank and SumBasic, with speed.

Scores are ROUGE F1 with stemming, best over each article's references, averaged over
articles of ``../shared/corpus/summaries/dev.jsonl``. Every system gets the same sentences
(newsbrief's splitter, boilerplate removed), so the tables compare how systems choose
sentences, not how they split them. sumy runs offline: it gets a regex word tokenizer
instead of NLTK's, whose data would have to be downloaded.
"""

from __future__ import annotations

import argparse
import functools
import gc
import itertools
import json
import math
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
from rouge_score import rouge_scorer

from bench.crossval import Spread, folds, spread
from summarizer.extractive import DEFAULT_MAX_CHARS, ExtractiveSummarizer, Tuning
from summarizer.sentences import split_sentences

__all__ = [
    "CORPUS",
    "GRID",
    "CrossValidation",
    "Example",
    "Score",
    "compare",
    "cross_validate",
    "evaluate",
    "lead_3",
    "lead_to_length",
    "load_examples",
    "main",
]

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "summaries" / "dev.jsonl"
_METRICS = ("rouge1", "rouge2", "rougeL")
_SUMY_SENTENCES = 3  # as many as Lead-3, the usual setting for these baselines
_ROUNDS = 5

# The candidate settings: a few values per lever, around what news summarizers use. Every
# combination is tried on each training fold (144 settings).
GRID: dict[str, tuple[float, ...]] = {
    "position_decay": (2.0, 3.0, 5.0),
    "centrality": (0.0, 0.5, 1.0),
    "entities": (0.0, 1.0),
    "redundancy": (0.5, 0.7),
    "target_chars": (200, 250, 300, 350),
}
# Lengths tried for the "Lead to length" baseline.
LEAD_LENGTHS = (150, 200, 250, 300, 350, 400)

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


def lead_to_length(text: str, target: int, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The article's first sentences, stopping once ``target`` characters are reached.

    A length-matched Lead baseline: it shows how much of a summarizer's edge over Lead-3
    is only a better length. Never passes ``max_chars`` (unless the lead alone does).
    """
    chosen: list[str] = []
    used = 0
    for sentence in split_sentences(text):
        cost = len(sentence) + (1 if chosen else 0)
        if chosen and used + cost > max_chars:
            break
        chosen.append(sentence)
        used += cost
        if used >= target:
            break
    return " ".join(chosen)


class _RougeTable:
    """Per-article ROUGE F1 (x100) of outputs, each (article, output) pair scored once."""

    def __init__(self, examples: Sequence[Example]) -> None:
        self._examples = examples
        self._scorer = rouge_scorer.RougeScorer(list(_METRICS), use_stemmer=True)
        self._seen: dict[tuple[int, str], tuple[float, float, float]] = {}

    def of(self, outputs: Sequence[str]) -> np.ndarray:
        """An (articles, 3) array of ROUGE-1/2/L, one row per output in article order."""
        return np.array([self._one(i, output) for i, output in enumerate(outputs)])

    def _one(self, i: int, output: str) -> tuple[float, float, float]:
        key = (i, output)
        if key not in self._seen:
            best = self._scorer.score_multi(list(self._examples[i].references), output)
            r1, r2, rl = (100 * best[m].fmeasure for m in _METRICS)
            self._seen[key] = (r1, r2, rl)
        return self._seen[key]


def tunings(grid: Mapping[str, Sequence[float]] = GRID) -> list[Tuning]:
    """Every combination of the grid's values, as summarizer settings."""
    names = list(grid)
    return [
        Tuning(**dict(zip(names, values, strict=True)))  # type: ignore[arg-type]
        for values in itertools.product(*(grid[name] for name in names))
    ]


@dataclass(frozen=True)
class Fold:
    """One held-out fold: the settings chosen without it and the scores on it.

    ``scores`` maps a system ("extractive", "lead to length", "Lead-3") to its mean
    ROUGE-1/2/L over the fold's articles.
    """

    chosen: Tuning
    lead_length: int
    scores: dict[str, np.ndarray]


@dataclass(frozen=True)
class CrossValidation:
    """Every fold of a cross-validation, and the grid's best on all the examples (what
    the product's defaults should be)."""

    folds: tuple[Fold, ...]
    best_on_all: Tuning
    lead_length_on_all: int
    articles: int


def cross_validate(
    examples: Sequence[Example],
    grid: Mapping[str, Sequence[float]] = GRID,
    *,
    k: int = 5,
    repeats: int = 4,
    seed: int = 0,
) -> CrossValidation:
    """Choose the summarizer's settings on training folds, score them on held-out folds.

    Each setting is judged by its mean of ROUGE-1, ROUGE-2 and ROUGE-L over the training
    articles; ties go to the first in grid order. The "lead to length" baseline gets its
    length chosen the same way.

    Args:
        examples: The corpus.
        grid: Candidate values per :class:`Tuning` field.
        k: Folds per shuffle.
        repeats: Shuffles.
        seed: Seed of the shuffles.

    Returns:
        The folds' choices and held-out scores.

    Raises:
        ValueError: If there are fewer examples than folds.
    """
    rouge = _RougeTable(examples)
    candidates = tunings(grid)
    ours = np.stack([rouge.of(_outputs(t, examples)) for t in candidates])
    leads = np.stack(
        [rouge.of([lead_to_length(e.article, n) for e in examples]) for n in LEAD_LENGTHS]
    )
    lead3 = rouge.of([lead_3(e.article) for e in examples])
    results = []
    for train, held_out in folds(len(examples), k, repeats, seed):
        t, n = _best(ours, train), _best(leads, train)
        scores = {
            "extractive": ours[t, held_out].mean(axis=0),
            "lead to length": leads[n, held_out].mean(axis=0),
            "Lead-3": lead3[held_out].mean(axis=0),
        }
        results.append(Fold(candidates[t], LEAD_LENGTHS[n], scores))
    everything = np.arange(len(examples))
    best, length = candidates[_best(ours, everything)], LEAD_LENGTHS[_best(leads, everything)]
    return CrossValidation(tuple(results), best, length, len(examples))


def _outputs(tuning: Tuning, examples: Sequence[Example]) -> list[str]:
    """The summaries one setting gives, in article order."""
    summarizer = ExtractiveSummarizer(tuning=tuning)
    return [summarizer.summarize_text("", e.article).text for e in examples]


def _best(scores: np.ndarray, rows: np.ndarray) -> int:
    """The candidate (first axis) with the best mean ROUGE over the given articles."""
    return int(np.argmax(scores[:, rows, :].mean(axis=(1, 2))))


def render_cv(cv: CrossValidation) -> str:
    """Render a cross-validation as Markdown: held-out means ± sd over folds."""
    systems = list(cv.folds[0].scores)
    per = {name: np.array([f.scores[name] for f in cv.folds]) for name in systems}
    edge = per["extractive"] - per["Lead-3"]
    lines = [
        f"Held-out ROUGE F1 x100 on {cv.articles} articles: {len(cv.folds)} folds "
        "(5-fold cross-validation over 4 shuffles); mean ± sd over folds",
        "",
        "| system (settings chosen on the training folds) | ROUGE-1 | ROUGE-2 | ROUGE-L |",
        "|---|---:|---:|---:|",
    ]
    for name in systems:
        cells = " | ".join(str(spread(per[name][:, m])) for m in range(3))
        lines.append(f"| {name} | {cells} |")
    cells = " | ".join(_signed(spread(edge[:, m])) for m in range(3))
    lines.append(f"| extractive − Lead-3 | {cells} |")
    wins = [int((edge[:, m] > 0).sum()) for m in range(3)]
    lines += [
        "",
        f"Folds where extractive beats Lead-3 (R1/R2/RL): {wins[0]}/{wins[1]}/{wins[2]}"
        f" of {len(cv.folds)}.",
        "Settings chosen per fold (position_decay, centrality, entities, redundancy,"
        " target_chars):",
    ]
    for tuning, count in Counter(f.chosen for f in cv.folds).most_common():
        lines.append(f"  {_fields(tuning)}: {count} folds")
    lead_lengths = Counter(f.lead_length for f in cv.folds).most_common()
    lines.append(f"Lead-to-length lengths chosen: {lead_lengths}")
    same = "yes" if cv.best_on_all == Tuning() else "NO: update summarizer.extractive.Tuning"
    lines.append(f"Best on all {cv.articles}: {_fields(cv.best_on_all)}; product defaults: {same}")
    return "\n".join(lines)


def _signed(s: Spread) -> str:
    return f"{s.mean:+.2f} ± {s.sd:.2f} [{s.low:+.1f}, {s.high:+.1f}]"


def _fields(tuning: Tuning) -> str:
    return str(tuple(getattr(tuning, f.name) for f in fields(tuning)))


def length_sensitivity(examples: Sequence[Example]) -> str:
    """How the edge over Lead-3 moves with the length of the reference summaries.

    The dev references average about 290 characters; news elsewhere may be summarized
    longer or shorter. Scores the product configuration and Lead-3 (and the product with
    longer targets, for comparison) against: the best of all references (the dev metric),
    the longest reference alone, the first two references joined (long summaries), and
    the first sentence of the first reference (one-line summaries). Nothing is chosen
    here: it shows what the chosen length risks.

    Returns:
        A Markdown table of ROUGE-1/2/L per regime and system.
    """
    regimes = {
        "best of all references": [list(e.references) for e in examples],
        "longest reference": [[max(e.references, key=len)] for e in examples],
        "two references joined": [[" ".join(e.references[:2])] for e in examples],
        "first sentence of one": [[split_sentences(e.references[0])[0]] for e in examples],
    }
    systems = {"Lead-3": lead_3, "extractive (product)": extractive}
    for target in (300, 350):
        longer = ExtractiveSummarizer(tuning=replace(Tuning(), target_chars=target))
        systems[f"extractive, target {target}"] = functools.partial(_summarize_with, longer)
    outputs = {name: [fn(e.article) for e in examples] for name, fn in systems.items()}
    scorer = rouge_scorer.RougeScorer(list(_METRICS), use_stemmer=True)
    lines = [
        "| references (mean chars) | system | ROUGE-1 | ROUGE-2 | ROUGE-L |",
        "|---|---|---:|---:|---:|",
    ]
    for regime, refs in regimes.items():
        chars = statistics.fmean(statistics.fmean(len(r) for r in rs) for rs in refs)
        for name, outs in outputs.items():
            best = [scorer.score_multi(rs, out) for rs, out in zip(refs, outs, strict=True)]
            means = [100 * statistics.fmean(b[m].fmeasure for b in best) for m in _METRICS]
            cells = " | ".join(f"{v:.2f}" for v in means)
            lines.append(f"| {regime} ({chars:.0f}) | {name} | {cells} |")
    return "\n".join(lines)


def _summarize_with(summarizer: ExtractiveSummarizer, text: str) -> str:
    return summarizer.summarize_text("", text).text


def render(scores: dict[str, Score], n: int) -> str:
    """Render scores as a Markdown table with the speed ratio against LexRank."""
    lines = [
        f"ROUGE F1 x100 (best over references, stemming) on all {n} articles; the"
        " extractive settings were chosen on these same articles",
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
    print(render_cv(cross_validate(examples)))
    print()
    print(length_sensitivity(examples))
    print()
    scores = compare(systems(), examples, rounds=_ROUNDS)
    print(render(scores, len(examples)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
