"""Scrapy extensions: run records, health checks, progress line, GC freeze, logger levels."""
