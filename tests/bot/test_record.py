"""``bot.types.record``: the core types' equality, hash and repr are those
``@dataclass(frozen=True)`` generates, for every type and any field values."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import types
from bot.types import ChatRef, Feed, FeedOrigin, record

RECORDS = [
    cls
    for _, cls in inspect.getmembers(types, inspect.isclass)
    if cls.__module__ == types.__name__
    and dataclasses.is_dataclass(cls)
    and not cls.__dataclass_params__.eq  # type: ignore[attr-defined]
]
_VALUES = st.one_of(
    st.sampled_from([0, 1, "", "a", None, (), ("a",), 1.5, FeedOrigin.CLI]),
    st.integers(),
    st.text(max_size=3),
)


def _made(cls: type, values: list[Any]) -> Any:
    """An instance of ``cls`` holding ``values``, whatever its ``__init__`` checks."""
    made = object.__new__(cls)
    for f, value in zip(dataclasses.fields(cls), values, strict=True):
        object.__setattr__(made, f.name, value)
    return made


def _reference(cls: type) -> type:
    """``cls``'s fields in a class made by ``@dataclass(frozen=True)`` itself."""
    names = [f.name for f in dataclasses.fields(cls)]
    return dataclasses.make_dataclass(cls.__name__, names, frozen=True)


def test_every_core_type_but_the_ordered_one_is_a_record() -> None:
    """The 40 frozen types use ``record``; ChatRef (ordered) keeps the dataclass's own."""
    assert len(RECORDS) == 40
    assert ChatRef not in RECORDS and Feed in RECORDS


@pytest.mark.parametrize("cls", RECORDS, ids=lambda cls: cls.__name__)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_eq_hash_and_repr_are_the_dataclass_ones(cls: type, data: st.DataObject) -> None:
    """Same repr, same hash, equal exactly when the generated ``__eq__`` says so."""
    width = len(dataclasses.fields(cls))
    first, second = (data.draw(st.lists(_VALUES, min_size=width, max_size=width)) for _ in "ab")
    ref = _reference(cls)
    a, b, ref_a, ref_b = (
        _made(cls, first),
        _made(cls, second),
        _made(ref, first),
        _made(ref, second),
    )
    assert repr(a) == repr(ref_a)
    assert (a == b) == (ref_a == ref_b) and (a != b) == (ref_a != ref_b)
    assert a == _made(cls, list(first)) and a != ref_a and a != None  # noqa: E711
    if _hashable(first):
        assert hash(a) == hash(ref_a)


def _hashable(values: list[Any]) -> bool:
    try:
        hash(tuple(values))
    except TypeError:
        return False
    return True


def test_a_record_is_frozen_and_a_recursive_repr_stops() -> None:
    """Assigning a field raises as a frozen dataclass does; a record holding itself shows
    ``...`` where it recurs, as the generated repr does."""

    @record
    class Box:
        inner: object = None

    box = Box()
    with pytest.raises(dataclasses.FrozenInstanceError):
        box.inner = 1  # type: ignore[misc]
    object.__setattr__(box, "inner", [box])
    assert (
        repr(box) == "test_a_record_is_frozen_and_a_recursive_repr_stops.<locals>.Box(inner=[...])"
    )


@pytest.mark.parametrize(
    "body",
    [
        "def __repr__(self) -> str:\n        return 'mine'",
        "def __eq__(self, other: object) -> bool:\n        return True",
        "token: str = dataclasses.field(default='', repr=False)",
        "note: str = dataclasses.field(default='', compare=False)",
    ],
    ids=["own repr", "own eq", "repr=False", "compare=False"],
)
def test_a_class_the_shared_methods_would_betray_is_refused(body: str) -> None:
    """A class with its own ``__eq__``/``__repr__``, or a field left out of them (a secret
    with ``repr=False``), is refused: the shared methods would show or compare it."""
    source = f"@record\nclass Odd:\n    name: str = ''\n    {body}\n"
    with pytest.raises(TypeError, match="need @dataclass"):
        exec(source, {"record": record, "dataclasses": dataclasses})
