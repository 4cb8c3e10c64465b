"""Core types: the chat reference grammar (a chat, or a thread inside it)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import ConfigError
from bot.types import CONSOLE, ChatRef


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("console", CONSOLE),
        ("telegram:@worldbrief", ChatRef("telegram", "@worldbrief")),
        ("telegram:-1001234567890/42", ChatRef("telegram", "-1001234567890", "42")),
        (" discord:123 ", ChatRef("discord", "123")),
    ],
)
def test_a_to_value_names_a_chat_and_maybe_a_thread(text: str, ref: ChatRef) -> None:
    """``platform:chat`` names a chat, ``platform:chat/topic`` a thread inside it."""
    assert ChatRef.parse(text) == ref
    assert ChatRef.parse(str(ref)) == ref


@pytest.mark.parametrize(
    "text", ["telegram", "telegram:", "telegram:-100/", "telegram:a/b/c", "x:a b"]
)
def test_malformed_to_values_are_refused(text: str) -> None:
    """Anything else is a config error naming the expected forms."""
    with pytest.raises(ConfigError, match="<platform>:<chat>/<topic>"):
        ChatRef.parse(text)


_names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda n: n != "console")
_parts = st.from_regex(r"[^\s/]{1,12}", fullmatch=True)


@given(_names, _parts, st.one_of(st.just(""), _parts))
def test_any_chat_reads_back_from_its_text_and_its_key(
    platform: str, chat_id: str, thread: str
) -> None:
    """A chat written out (``str``) parses back to itself, and its store key with its
    platform gives it back; without its thread it is the chat alone."""
    ref = ChatRef(platform, chat_id, thread)
    assert ChatRef.parse(str(ref)) == ref
    assert ChatRef.from_key(platform, ref.key) == ref
    assert ref.without_thread == ChatRef(platform, chat_id)
