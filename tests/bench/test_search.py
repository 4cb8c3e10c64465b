"""The search bench's choice of how much text to index: the best recall it can afford."""

from __future__ import annotations

from bench.search import PREFIXES, WHOLE, choose

# per prefix, whether each of four queries finds its entry: 0-1 title, 2-3 mention
RECALLS = {
    500: [True, True, False, False],
    1000: [True, True, True, False],
    2000: [True, True, True, False],
    4000: [True, True, True, True],
    8000: [True, False, True, True],
    WHOLE: [False, False, True, True],
}
TRAIN = {"title": [0, 1], "mention": [2, 3]}


def test_the_best_mean_recall_among_the_affordable_prefixes_is_chosen() -> None:
    """The longer prefix with the better mean recall is taken only when affordable."""
    assert choose(RECALLS, TRAIN, [500, 1000, 2000, 4000, 8000, WHOLE]) == 4000
    assert choose(RECALLS, TRAIN, [500, 1000, 2000]) == 1000  # the shorter of equals
    assert choose(RECALLS, TRAIN, [500]) == 500


def test_with_no_affordable_prefix_the_shortest_is_chosen() -> None:
    """When every index costs more than saving, the cheapest is the answer."""
    assert choose(RECALLS, TRAIN, []) == PREFIXES[0]
