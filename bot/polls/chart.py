"""Bar charts of poll results (matplotlib, headless). Call from a worker thread."""

from __future__ import annotations

import io
import textwrap
from typing import TYPE_CHECKING

from bot.i18n import ngettext
from bot.polls.rules import Tally

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH_PX, HEIGHT_PX, DPI = 800, 450, 100


def build_figure(t: Tally) -> Figure:
    """A horizontal bar chart: one bar per option, labelled with count and percentage."""
    from matplotlib.figure import Figure  # imported here: slow, and only polls need it

    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    axes = figure.add_subplot()
    labels = [textwrap.shorten(o, 30, placeholder="…") for o in t.options]
    positions = list(range(len(t.options)))[::-1]
    bars = axes.barh(positions, t.counts, color="#3b82f6")
    axes.set_yticks(positions, labels)
    for bar, i in zip(bars, range(len(t.options)), strict=True):
        axes.annotate(
            f" {t.counts[i]} ({t.percent(i):.0f}%)",
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            va="center",
        )
    axes.set_xlim(0, max(1, max(t.counts, default=0)) * 1.25)
    axes.set_title(textwrap.fill(t.question, 70), fontsize=11)
    axes.set_xlabel(ngettext("{count} vote", "{count} votes", t.total).format(count=t.total))
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


def render_chart(t: Tally) -> bytes:
    """The chart as PNG bytes, ``WIDTH_PX`` x ``HEIGHT_PX``."""
    buffer = io.BytesIO()
    build_figure(t).savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
