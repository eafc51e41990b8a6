"""Fixtures of the test suite: real services on free loopback ports, never a public host."""

pytest_plugins = [
    "tests.fixtures.services",
    "tests.fixtures.web",
    "tests.fixtures.scrapyd",
]
