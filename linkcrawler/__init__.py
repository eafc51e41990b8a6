"""linkcrawler: a Scrapy-based crawler and link verifier that keeps earned backlinks alive."""

__version__ = "0.1.0"
