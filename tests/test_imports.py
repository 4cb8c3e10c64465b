"""The core never loads a platform library or the LLM SDK."""

from __future__ import annotations

import subprocess
import sys


def test_core_imports_no_platform() -> None:
    """Importing every core module leaves telegram, discord and openai unloaded."""
    code = (
        "import sys, pkgutil, importlib, bot, summarizer.base\n"
        "for m in pkgutil.walk_packages(bot.__path__, 'bot.'):\n"
        "    if m.name not in ('bot.__main__',): importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in "
        "('telegram', 'discord', 'openai'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
