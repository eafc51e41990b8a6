"""The human report (``scrapy linkreport``): MongoDB aggregations, inline SVG charts, one HTML file.

- :mod:`~linkcrawler.report.queries`: what the report shows, aggregated in MongoDB
  (``$group`` pipelines), every table capped, so the file stays small at any size;
- :mod:`~linkcrawler.report.charts`: charts as inline SVG, drawn here (pure);
- :mod:`~linkcrawler.report.html`: the jinja2 template, autoescaped.
"""
