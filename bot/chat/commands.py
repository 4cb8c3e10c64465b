"""The chat commands: one table that ``/help``, Telegram's menu and Discord's slash commands
are all generated from, so the platforms cannot drift apart.

What a command does is :class:`bot.chat.service.Service`'s business; this module only says
which commands exist, what argument each takes, and who may run it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import i18n
from bot.chat.topics import MAX_TOPIC_CHARS
from bot.i18n import N_, _
from bot.ingest.filters import MAX_PATTERN_CHARS
from bot.polls.rules import MAX_OPTION, MAX_OPTIONS, MAX_QUESTION

MAX_URL_CHARS = 2000
# "Question? | A | B": the question, then each option with its " | " separator.
MAX_POLL_CHARS = MAX_QUESTION + MAX_OPTIONS * (MAX_OPTION + 3)
MAX_POLL_NUMBER_CHARS = 20
MAX_FILTER_CHARS = len("exclude ") + MAX_PATTERN_CHARS


@dataclass(frozen=True)
class CommandArg:
    """The one argument a command takes (a string option on Discord).

    Attributes:
        name: the Discord option's name, e.g. ``topic``.
        description: what to type, for the Discord option (1-100 characters; marked for
            translation: Discord shows it in the user's language).
        required: whether the command needs it.
        max_chars: the longest value a platform should let the user type.
        label: how ``/help`` shows it (``<feed url>``); the name when empty.
    """

    name: str
    description: str
    required: bool
    max_chars: int
    label: str = ""

    @property
    def usage(self) -> str:
        """``<label>`` for a required argument, ``[label]`` for an optional one."""
        label = self.label or self.name
        return f"<{label}>" if self.required else f"[{label}]"


@dataclass(frozen=True)
class CommandSpec:
    """One chat command, the same on every platform.

    Attributes:
        name: what users type after the slash, lowercase.
        summary: a short description for menus (Telegram's menu, Discord's command list;
            marked for translation: each menu is registered in every shipped locale).
        help: the ``/help`` line's text after the dash (marked for translation: ``/help``
            shows it in the reader's language).
        arg: the argument it takes, if any.
        admin_only: needs the chat's admin rights (Telegram administrator, Discord Manage
            Channels).
        aliases: other names that run the same command (Telegram's ``/start``).
    """

    name: str
    summary: str
    help: str
    arg: CommandArg | None = None
    admin_only: bool = False
    aliases: tuple[str, ...] = ()

    @property
    def usage(self) -> str:
        """How to type it: ``/summary <topic>``."""
        return f"/{self.name} {self.arg.usage}" if self.arg else f"/{self.name}"

    def local_usage(self) -> str:
        """How to type it, its argument named in the current locale: ``/summary <Thema>``."""
        if self.arg is None:
            return f"/{self.name}"
        label = _(self.arg.label or self.arg.name)
        return f"/{self.name} " + (f"<{label}>" if self.arg.required else f"[{label}]")


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "summary",
        N_("The state of a story, with numbered sources"),
        N_("the state of a story, with numbered sources"),
        CommandArg(
            "topic",
            N_("What to summarize, e.g. venezuela"),
            required=True,
            max_chars=MAX_TOPIC_CHARS,
            label=N_("topic"),
        ),
    ),
    CommandSpec(
        "latest",
        N_("The newest stories in this chat's feeds"),
        N_("the newest stories in this chat's feeds"),
    ),
    CommandSpec(
        "subscribe",
        N_("Follow a feed in this chat"),
        N_("follow a feed in this chat"),
        CommandArg(
            "url",
            N_("The feed's address (RSS, Atom or JSON Feed)"),
            required=True,
            max_chars=MAX_URL_CHARS,
            label=N_("feed url"),
        ),
        admin_only=True,
    ),
    CommandSpec(
        "unsubscribe",
        N_("Stop following a feed in this chat"),
        N_("stop following a feed: its number, name or URL"),
        CommandArg(
            "feed",
            N_("The feed's number, name or URL, as /feeds lists it"),
            required=True,
            max_chars=MAX_URL_CHARS,
            label=N_("feed"),
        ),
        admin_only=True,
    ),
    CommandSpec("feeds", N_("The feeds this chat follows"), N_("the feeds this chat follows")),
    CommandSpec(
        "poll",
        N_("A reader poll on the latest post, or your own"),
        N_("a reader poll on the latest post, or /poll Question? | A | B"),
        CommandArg(
            "question",
            N_("Question? | Answer | Answer (2-10 answers); empty: a poll on the latest post"),
            required=False,
            max_chars=MAX_POLL_CHARS,
            label=N_("question"),
        ),
        admin_only=True,
    ),
    CommandSpec(
        "results",
        N_("The latest poll's results, or those of a poll by number"),
        N_("the latest poll's results"),
        CommandArg(
            "poll",
            N_("The poll's number; empty: the latest poll"),
            required=False,
            max_chars=MAX_POLL_NUMBER_CHARS,
            label=N_("poll"),
        ),
    ),
    CommandSpec(
        "filter",
        N_("Show or change this chat's filters"),
        N_(
            "this chat's filters, or change them: include <pattern>, exclude <pattern>, "
            "remove <number>, clear"
        ),
        CommandArg(
            "rule",
            N_("include <pattern>, exclude <pattern>, remove <number> or clear; empty: show them"),
            required=False,
            max_chars=MAX_FILTER_CHARS,
            label=N_("rule"),
        ),
        admin_only=True,
    ),
    CommandSpec(
        "preview",
        N_("How the latest article would look here, and what the filters let through"),
        N_("how the latest article would look here, and which recent ones the filters pass"),
        admin_only=True,
    ),
    CommandSpec(
        "status",
        N_("Health of this chat's feeds and deliveries"),
        N_("health of this chat's feeds and deliveries"),
    ),
    CommandSpec("help", N_("What newsbrief can do"), N_("this list"), aliases=("start",)),
)


ADMIN_ONLY: frozenset[str] = frozenset(spec.name for spec in COMMANDS if spec.admin_only)
_BY_NAME = {name: spec for spec in COMMANDS for name in (spec.name, *spec.aliases)}


def find(name: str) -> CommandSpec | None:
    """The command ``name`` (any case, or an alias such as ``start``) stands for; None if
    there is no such command."""
    return _BY_NAME.get(name.lower())


def names() -> tuple[str, ...]:
    """Every name a command answers to, aliases included, in table order."""
    return tuple(_BY_NAME)


def help_text() -> str:
    """The ``/help`` answer: one line per command, in table order, in the current locale."""
    return "\n".join(_help_line(spec) for spec in COMMANDS)


def menu() -> list[tuple[str, str]]:
    """``(name, description)`` for a platform's command menu (Telegram's setMyCommands),
    in the current locale."""
    return [(spec.name, _menu_description(spec)) for spec in COMMANDS]


def menus() -> dict[str, list[tuple[str, str]]]:
    """The command menu in every locale newsbrief speaks, by locale (English under
    :data:`bot.i18n.SOURCE`)."""
    found = {}
    for locale in i18n.available():
        with i18n.using(locale):
            found[locale] = menu()
    return found


def _help_line(spec: CommandSpec) -> str:
    admins = " " + _("(admins)") if spec.admin_only else ""
    return f"{spec.local_usage()} - {_(spec.help)}{admins}"


def _menu_description(spec: CommandSpec) -> str:
    summary = _(spec.summary)
    return f"{summary}: {spec.local_usage()}" if spec.arg else summary
