"""The console adapter: posts to stdout, commands from stdin."""

from adapters.console.adapter import ConsolePlatform, serve_console

__all__ = ["ConsolePlatform", "serve_console"]
