"""``scrapy alerts [--dry-run]``: deliver what each channel has not received, one digest per channel."""

from __future__ import annotations

import argparse

from linkcrawler.alerts.channels import parse_channels
from linkcrawler.alerts.delivery import ChannelReport, deliver, resend_in_doubt
from linkcrawler.alerts.rules import AlertRules
from linkcrawler.cli import StoreCommand
from linkcrawler.clock import Clock
from linkcrawler.exceptions import ConfigurationError
from linkcrawler.store import Store
from linkcrawler.web.text import printable

#: Exit code when a channel could not be delivered to (for cron).
EXIT_UNDELIVERED = 1


def describe(report: ChannelReport) -> str:
    """One line per channel: what happened, with the masked URL."""
    line = f"{report.channel.display}: {report.outcome}"
    if report.digest is not None and not report.digest.empty:
        line += f", {report.items} item(s): {report.digest.subject}"
    if report.error:
        line += f" ({report.error})"
    if report.marked_in_doubt:
        line += f"; {report.marked_in_doubt} interrupted delivery(ies) now in doubt (--resend-in-doubt)"
    return printable(line)


class Command(StoreCommand):
    def syntax(self) -> str:
        return "[--dry-run] [--resend-in-doubt]"

    def short_desc(self) -> str:
        return "Deliver new alerts (lost links, mentions, opportunities...) as one digest per channel"

    def long_desc(self) -> str:
        return (
            "Sends each channel of LINKCRAWLER_ALERT_URLS (Apprise URLs: mailto://, json://, slack://...) "
            "one digest of what it has not received yet, filtered by LINKCRAWLER_ALERT_MIN_PRIORITY and "
            "LINKCRAWLER_ALERT_TYPES. Each channel gets an item once (alert_deliveries); a channel that "
            "failed gets it with the next run. Exit code 1 when a channel failed."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--dry-run", action="store_true", help="print what would be sent; send and record nothing")
        parser.add_argument("--resend-in-doubt", action="store_true",
                            help="send again the digests a killed run may or may not have delivered")

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        channels = parse_channels(self.settings.get("LINKCRAWLER_ALERT_URLS"))
        if not channels:
            raise ConfigurationError("no channel: set LINKCRAWLER_ALERT_URLS (e.g. mailtos://user:pass@smtp.example.com"
                                     "?to=you@example.com, or json://hooks.example.com/linkcrawler)")
        rules = AlertRules.from_settings(self.settings)
        now = Clock.from_settings(self.settings).now()
        if opts.resend_in_doubt and not opts.dry_run:
            print(f"{resend_in_doubt(store.db)} delivery(ies) in doubt will be sent again")
        reports = deliver(store.db, channels, rules, now, dry_run=opts.dry_run)
        for report in reports:
            print(describe(report))
            if opts.dry_run and report.digest is not None and not report.digest.empty:
                print(report.digest.text())
        if any(r.outcome == "failed" for r in reports):
            self.exitcode = EXIT_UNDELIVERED
