"""newsbrief on Discord, through discord.py. Only the composition root imports this, lazily."""

import warnings

with warnings.catch_warnings():
    # discord.py imports audioop for voice playback, which Python 3.11-3.12 deprecate on
    # import; newsbrief plays no audio. Narrow, so any other warning still surfaces.
    warnings.filterwarnings(
        "ignore", message="'audioop' is deprecated", category=DeprecationWarning
    )
    import discord  # noqa: F401

from adapters.discord.adapter import (
    DiscordAdapter,
    create_adapter,
    point_discord_at,
    quiet_expected_faults,
)

__all__ = ["DiscordAdapter", "create_adapter", "point_discord_at", "quiet_expected_faults"]
