"""Google's disavow file: every validation rule, writing within the limits, diffs; subnets."""

from __future__ import annotations

import pytest

from linkcrawler.toxicity.disavow import (
    MAX_LINES,
    MAX_URL_CHARS,
    DisavowError,
    Entry,
    ascii_domain,
    check_disavow,
    diff_entries,
    entry_lines,
    parse_disavow,
    render_disavow,
)
from linkcrawler.toxicity.network import networks, resolve_hosts, subnet_of


def problems(text: str | bytes) -> list[str]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return [str(problem) for problem in check_disavow(data)]


def test_a_valid_file_has_no_problem() -> None:
    text = ("# Contacted the owner on 2026-07-01\n\ndomain:spamdomain1.com\nDomain:sub.spam2.co.uk\n"
            "http://www.spamdomain2.com/contentA.html\nhttps://spam3.com/page?x=1\r\ndomain:xn--bcher-kva.de\n")
    entries, found = parse_disavow(text.encode())
    assert found == []
    assert [e.text for e in entries] == ["domain:spamdomain1.com", "domain:sub.spam2.co.uk",
                                         "http://www.spamdomain2.com/contentA.html", "https://spam3.com/page?x=1",
                                         "domain:xn--bcher-kva.de"]


def test_bad_syntax_is_reported_with_its_line() -> None:
    found = problems("domain:ok.com\nspam.com\nftp://x.com/a\ndomain:\ndomain:bad_name!.com\nhttp://\n"
                     "http://a.com/x y\n")
    assert found == [
        "line 2: error: 'spam.com' is neither a URL (http:// or https://), a domain: entry, nor a # comment",
        "line 3: error: 'ftp://x.com/a' is neither a URL (http:// or https://), a domain: entry, nor a # comment",
        "line 4: error: domain: without a domain name",
        "line 5: error: 'bad_name!.com' is not a valid domain name",
        "line 6: error: 'http://' has no host name",
        "line 7: error: whitespace inside an entry: 'http://a.com/x y' (one entry per line)",
    ]


def test_path_level_and_scheme_domain_entries() -> None:
    found = problems("domain:example.com/blog/\ndomain:https://example.com\n")
    assert found[0].startswith("line 1: error: 'domain:example.com/blog/': path-level domain: entry")
    assert found[1] == "line 2: error: 'domain:https://example.com': a domain: entry takes a domain name, without http://"


def test_duplicates_are_warnings_naming_the_first_line() -> None:
    found = problems("domain:a.com\nhttps://b.com/x\nDOMAIN:A.com\nhttps://b.com/x\ndomain:bücher.de\n"
                     "domain:xn--bcher-kva.de\n")
    assert found == [
        "line 3: warning: duplicate of line 1: domain:a.com",
        "line 4: warning: duplicate of line 2: https://b.com/x",
        "line 6: warning: duplicate of line 5: domain:xn--bcher-kva.de",
    ]
    assert all("warning" in p for p in found)


def test_limits_lines_size_and_url_length() -> None:
    too_many = "\n".join(f"domain:d{i}.com" for i in range(MAX_LINES + 1)) + "\n"
    assert "line 100001: error: 100,001 lines: over Google's limit of 100,000" in problems(too_many)[0]
    big = "# " + "x" * 2_000_100 + "\ndomain:a.com\n"
    assert problems(big)[0].startswith("file: error: 2,000,116 bytes: over Google's limit of 2 MB")
    url = "https://a.com/" + "p" * (MAX_URL_CHARS - 13)
    assert problems(url + "\n") == [f"line 1: error: URL of {MAX_URL_CHARS + 1:,} characters (at most 2,048)"]
    assert problems(url[:-1] + "\n") == []


def test_encoding_bom_and_nul() -> None:
    assert problems(b"\xef\xbb\xbfdomain:a.com\n")[0].startswith(
        "line 1: error: starts with a UTF-8 byte order mark")
    assert problems(b"domain:a.com\n# caf\xe9\ndomain:b.com\n") == [
        "line 2: error: not UTF-8 or ASCII: byte 0xe9 cannot be read (save the file as UTF-8)"]
    utf16 = "domain:a.com\n".encode("utf-16")
    found = problems(utf16)
    assert found[0].startswith("line 1: error: starts with a UTF-16 (little-endian) byte order mark")
    assert any("NUL byte" in p for p in found)


def test_idn_domains_are_written_in_punycode() -> None:
    assert ascii_domain("Bücher.DE") == "xn--bcher-kva.de"
    assert ascii_domain("xn--bcher-kva.de") == "xn--bcher-kva.de"
    assert ascii_domain("127.0.3.1") == "127.0.3.1"
    with pytest.raises(ValueError):
        ascii_domain("localhost")
    entries, found = parse_disavow("domain:пример.рф\nhttps://пример.рф/страница\n".encode())
    assert found == [] and entries[0].text == "domain:xn--e1afmkfd.xn--p1ai"
    assert entries[1].domain == "xn--e1afmkfd.xn--p1ai"


def test_render_sorts_checks_and_refuses_what_google_would_not_take() -> None:
    text = render_disavow(["Written by a test", ""], [Entry("url", "https://z.com/a"), Entry("domain", "b.com"),
                                                     Entry("domain", "a.com"), Entry("domain", "a.com")])
    assert text == "# Written by a test\n#\ndomain:a.com\ndomain:b.com\nhttps://z.com/a\n"
    assert check_disavow(text.encode()) == []
    assert text.isascii()
    with pytest.raises(DisavowError, match="100,001 lines, over Google's limit of 100,000: nothing written"):
        render_disavow(["header"], [Entry("domain", f"d{i}.com") for i in range(MAX_LINES)])
    with pytest.raises(DisavowError, match="over Google's limit of 2 MB"):
        render_disavow([], [Entry("url", f"https://example.com/{i}/" + "x" * 1000) for i in range(2000)])
    with pytest.raises(DisavowError, match="longer than 2,048"):
        render_disavow([], [Entry("url", "https://a.com/" + "x" * 3000)])


def test_diff_of_entry_lines() -> None:
    before = entry_lines("# v1\ndomain:a.com\ndomain:b.com\nhttps://c.com/x\n")
    after = entry_lines("# v2\ndomain:b.com\ndomain:d.com\nhttps://c.com/x\n")
    assert diff_entries(before, after) == (["domain:d.com"], ["domain:a.com"])
    assert diff_entries([], after) == (after, [])


def test_subnets_and_networks() -> None:
    assert subnet_of("203.0.113.77") == "203.0.113.0/24"
    assert subnet_of("2001:db8:abcd:12::1") == "2001:db8:abcd::/48"
    assert subnet_of("::ffff:198.51.100.9") == "198.51.100.0/24"
    assert subnet_of("not an address") is None
    found = networks({"a.com": ["203.0.113.1"], "b.com": ["203.0.113.2", "192.0.2.1"], "c.com": ["203.0.113.3"],
                      "d.com": ["192.0.2.9"], "e.com": ["198.51.100.1"], "f.com": []})
    assert found["a.com"].subnet == "203.0.113.0/24" and found["a.com"].others == ("b.com", "c.com")
    assert found["b.com"].others == ("a.com", "c.com")
    assert found["d.com"].others == ("b.com",)
    assert "e.com" not in found and "f.com" not in found


def test_resolve_hosts_static_literals_dns_and_timeout() -> None:
    calls: list[str] = []

    def resolver(host: str) -> list[str]:
        calls.append(host)
        if host == "slow.test":
            import time

            time.sleep(2)
        return ["192.0.2.5"]

    found = resolve_hosts(["127.0.3.1", "Pinned.test", "dns.test", "slow.test", "dns.test"],
                          {"pinned.test": "198.51.100.4"}, timeout=0.5, resolve=resolver)
    assert found == {"127.0.3.1": ["127.0.3.1"], "pinned.test": ["198.51.100.4"], "dns.test": ["192.0.2.5"],
                     "slow.test": []}
    assert sorted(calls) == ["dns.test", "slow.test"]
    # The system resolver: localhost is on loopback.
    assert any(a.startswith("127.") or a == "::1" for a in resolve_hosts(["localhost"])["localhost"])
