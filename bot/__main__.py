"""``python -m bot`` runs the newsbrief CLI."""

import gc

# The collector rests while the CLI's modules load, as it does for the rest of start-up
# (bot.app.memory.collect_after_start_up, which ``main`` calls first).
gc.disable()

from bot.app.cli import main  # noqa: E402

main()
