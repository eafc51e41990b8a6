"""Alerts: digests of what changed, delivered once to each channel.

- :mod:`~linkcrawler.alerts.rules`: what is worth a message (settings);
- :mod:`~linkcrawler.alerts.kinds`: the registry of alert kinds, one per source
  collection (``link_events``, ``mentions``, ``opportunities``, ``toxicity``,
  ``outreach``), each turning its documents into digest entries;
- :mod:`~linkcrawler.alerts.digest`: the digest (pure) and its text and HTML forms;
- :mod:`~linkcrawler.alerts.channels`: channels (Apprise URLs) and sending;
- :mod:`~linkcrawler.alerts.delivery`: exactly once per channel, through ``alert_deliveries``.
"""
