"""``python -m bot`` runs the newsbrief CLI."""

from bot.app.cli import main

main()
