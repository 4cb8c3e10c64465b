"""Durable state. ``sqlite.SqliteStore`` is the default implementation of the Store port."""
