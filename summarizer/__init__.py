"""Summarizers behind one Protocol: extractive (offline default) and llm (OpenAI-compatible)."""

from summarizer.base import Document, PollProposal, Summarizer, Summary

__all__ = ["Document", "PollProposal", "Summarizer", "Summary"]
