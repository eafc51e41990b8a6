"""The exceptions linkcrawler raises: one base, a few documented kinds."""

from __future__ import annotations


class LinkcrawlerError(Exception):
    """Base of every error linkcrawler raises on purpose."""


class ConfigurationError(LinkcrawlerError):
    """A setting or argument has a value that cannot work; the message says which."""


class StoreUnavailable(LinkcrawlerError):
    """MongoDB (embedded or at ``MONGO_URI``) could not be reached or started."""


class ImportFormatError(LinkcrawlerError):
    """A backlink export file is not in a format linkcrawler recognises."""
