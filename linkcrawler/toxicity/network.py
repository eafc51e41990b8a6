"""Link networks: linking domains that live side by side on one subnet.

Private blog networks and link farms are often many domains on one server or a
few neighbouring ones. Each linking domain is resolved once per audit (one host
per domain: the one most of its linking pages are on), in a thread pool with a
timeout, never on a reactor; the addresses are grouped by IPv4 /24 and IPv6 /48.

``LINKCRAWLER_TOXIC_RESOLVE`` (``{"host": "address"}`` or ``{"host": ["a", "b"]}``)
answers for the hosts it names before DNS is asked, as ``curl --resolve`` does:
for tests and demos whose names do not exist, or to pin a host.
Shared hosting and CDNs put unrelated sites on one /24 too: the signal weighs
less than what a page shows, and names the neighbours so a person can judge.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, TimeoutError, wait

from linkcrawler.toxicity.score import Network

logger = logging.getLogger(__name__)

#: Resolutions in flight at once.
RESOLVER_THREADS = 16


def subnet_of(address: str) -> str | None:
    """The /24 of an IPv4 address or the /48 of an IPv6 one (``None`` if it is no address)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def system_resolve(host: str) -> list[str]:
    """The addresses DNS (getaddrinfo) gives for ``host``; [] when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolve_hosts(
    hosts: Iterable[str],
    static: Mapping[str, str | list[str]] | None = None,
    timeout: float = 5.0,
    resolve: Callable[[str], list[str]] = system_resolve,
) -> dict[str, list[str]]:
    """Each host's addresses: an IP literal is itself, ``static`` answers first, then ``resolve``.

    Lookups run in a thread pool; those not done within ``timeout`` seconds (for the
    whole batch) count as unresolved. A host that does not resolve maps to ``[]``.
    """
    pinned = {name.lower(): ([value] if isinstance(value, str) else list(value))
              for name, value in (static or {}).items()}
    found: dict[str, list[str]] = {}
    pending = []
    for host in dict.fromkeys(h.lower().strip("[]") for h in hosts):
        if subnet_of(host) is not None:
            found[host] = [host]
        elif host in pinned:
            found[host] = pinned[host]
        else:
            pending.append(host)
    if not pending:
        return found
    pool = ThreadPoolExecutor(max_workers=min(RESOLVER_THREADS, len(pending)), thread_name_prefix="toxic-dns")
    try:
        futures = {pool.submit(resolve, host): host for host in pending}
        done, not_done = wait(futures, timeout=timeout)
        for future in done:
            try:
                found[futures[future]] = future.result()
            except (OSError, TimeoutError):
                found[futures[future]] = []
        for future in not_done:
            found[futures[future]] = []
        if not_done:
            logger.warning("toxicaudit: %d host(s) did not resolve within %gs", len(not_done), timeout)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return found


def networks(addresses_by_domain: Mapping[str, list[str]]) -> dict[str, Network]:
    """For each domain sharing a subnet with other domains: the subnet and those others.

    A domain with addresses in several shared subnets gets the most crowded one.
    """
    members: dict[str, set[str]] = defaultdict(set)
    for domain, addresses in addresses_by_domain.items():
        for address in addresses:
            subnet = subnet_of(address)
            if subnet is not None:
                members[subnet].add(domain)
    result: dict[str, Network] = {}
    for subnet, domains in sorted(members.items(), key=lambda item: (-len(item[1]), item[0])):
        if len(domains) < 2:
            continue
        for domain in sorted(domains):
            if domain not in result:
                result[domain] = Network(subnet, tuple(sorted(domains - {domain})))
    return result
