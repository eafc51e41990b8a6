"""Rendering linking pages in a real browser (scrapy-playwright driving Debian's chromium).

:mod:`~linkcrawler.render.mode` decides from the settings whether rendering is
on and which Scrapy settings turn it on (pure); :mod:`~linkcrawler.render.handler`
is the download handler, scrapy-playwright's with the address guard applied to
every request the page makes.
"""
