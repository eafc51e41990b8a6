"""Typed spider arguments (``-a NAME=VALUE``), checked before a crawl starts.

A spider declares what it takes as a :class:`SpiderArguments` class attribute
``arguments`` and reads its values with :meth:`SpiderArguments.parse` in
``__init__``. ``scrapy crawl`` (linkcrawler/commands/crawl.py) parses them too,
before Scrapy sets anything up, so a bad value ends the command with one line
that names the argument and says what is expected, instead of a traceback from
inside the engine.

Values arrive as strings from the command line and Scrapyd, and as Python
values from a script; both are accepted. Names Scrapy and Scrapyd add
themselves start with ``_`` (``_job``) and are passed through untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from linkcrawler.exceptions import ConfigurationError
from linkcrawler.web.urls import normalize_url

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class _Invalid(ValueError):
    """A value that does not fit; the argument's ``expected`` text says why."""


@dataclass(frozen=True)
class Argument:
    """One spider argument: its name, how to read it, and what it expects in words."""

    name: str
    convert: Callable[[Any], Any]
    expected: str
    required: bool = False
    default: Any = None

    def read(self, value: Any) -> Any:
        try:
            return self.convert(value)
        except (_Invalid, ValueError, TypeError):
            raise _Invalid(self.expected) from None


def integer(name: str, minimum: int = 0, default: int | None = None, meaning: str = "") -> Argument:
    """A whole number at least ``minimum`` (``meaning`` is added to the message, e.g. "0: no limit")."""

    def convert(value: Any) -> int:
        if isinstance(value, bool):
            raise _Invalid
        number = value if isinstance(value, int) else int(str(value).strip(), 10)
        if number < minimum:
            raise _Invalid
        return number

    expected = f"a whole number >= {minimum}" + (f" ({meaning})" if meaning else "")
    return Argument(name, convert, expected, default=default)


def flag(name: str, default: bool = False) -> Argument:
    """A yes/no value: ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``."""

    def convert(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise _Invalid

    return Argument(name, convert, "1, true, yes, on or 0, false, no, off", default=default)


def http_url(name: str, required: bool = False) -> Argument:
    """An absolute http(s) URL, normalized (:func:`~linkcrawler.web.urls.normalize_url`)."""

    def convert(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise _Invalid
        return normalize_url(value)

    return Argument(name, convert, "an absolute http(s) URL, like https://example.com/", required=required)


class SpiderArguments:
    """The arguments one spider takes; :meth:`parse` checks and converts what was given."""

    def __init__(self, spider: str, *arguments: Argument) -> None:
        self.spider = spider
        self.arguments = {argument.name: argument for argument in arguments}

    def parse(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Every declared argument's value (its default when not given), or ``ConfigurationError``.

        Names starting with ``_`` are Scrapy's and Scrapyd's (``_job``): they are
        not returned, and never refused.
        """
        unknown = sorted(name for name in given if name not in self.arguments and not name.startswith("_"))
        if unknown:
            known = ", ".join(f"-a {name}=" for name in self.arguments) or "none"
            raise ConfigurationError(
                f"{self.spider}: unknown argument {', '.join(repr(name) for name in unknown)}; "
                f"it takes: {known}"
            )
        values: dict[str, Any] = {}
        for name, argument in self.arguments.items():
            value = given.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                if argument.required:
                    raise ConfigurationError(
                        f"{self.spider}: -a {name} is required: expected {argument.expected}"
                    )
                values[name] = argument.default
                continue
            try:
                values[name] = argument.read(value)
            except _Invalid:
                raise ConfigurationError(
                    f"{self.spider}: -a {name}={value!r} is not valid: expected {argument.expected}"
                ) from None
        return values

    @staticmethod
    def internal(given: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments Scrapy and Scrapyd add themselves (``_job``), for ``Spider.__init__``."""
        return {name: value for name, value in given.items() if name.startswith("_")}


def spider_arguments(spidercls: type) -> SpiderArguments | None:
    """The declared arguments of a spider class, if it declares them."""
    arguments = getattr(spidercls, "arguments", None)
    return arguments if isinstance(arguments, SpiderArguments) else None
