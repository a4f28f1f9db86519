"""Pure, typed normalisers: identity, title, dates, body, credits and text. No Scrapy.

The item pipelines (``pipelines/``) are thin stages over these functions; spiders, the extractor,
commands and the Jekyll exporter call them directly.
"""
