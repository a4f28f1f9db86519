"""Tiny spiders and settings for the operations tests (``crawlall``, run records, resume)."""
