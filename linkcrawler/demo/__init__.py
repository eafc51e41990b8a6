"""The demo: a few linking pages and a small "own site", served on loopback.

``scrapy demo`` serves them, imports ``export.csv`` (shaped like a real export),
checks every link, changes some pages as the web would, checks again and prints
what happened. Links point from ``127.0.0.1`` (the "other sites") to
``localhost`` (the "own site"): two host names, one local server.
"""
