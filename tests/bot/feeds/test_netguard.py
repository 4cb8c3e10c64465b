"""The pure URL and address guards: every spelling of a private address is refused."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, ip_address
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import BlockedURL
from bot.feeds.netguard import (
    check_url,
    is_public_address,
    is_web_url,
    local_path,
    operator_feed_location,
    parse_host_ip,
    redact_url,
)

PRIVATE_V4 = [IPv4Network(n) for n in ("127.0.0.0/8", "10.0.0.0/8", "192.168.0.0/16")]
PRIVATE_V4.append(IPv4Network("172.16.0.0/12"))


@st.composite
def private_ipv4(draw: st.DrawFn) -> IPv4Address:
    """Any address in 127/8, 10/8, 192.168/16 or 172.16/12."""
    net = draw(st.sampled_from(PRIVATE_V4))
    offset = draw(st.integers(0, net.num_addresses - 1))
    return net.network_address + offset


def _spell_part(draw: st.DrawFn, value: int) -> str:
    base = draw(st.sampled_from(["dec", "oct", "hex", "HEX"]))
    zeros = "0" * draw(st.integers(0, 3))
    if base == "oct":
        return f"0{zeros}{value:o}"
    if base == "hex":
        return f"0x{zeros}{value:x}"
    if base == "HEX":
        return f"0X{zeros}{value:X}"
    return str(value)


@st.composite
def ipv4_spelling(draw: st.DrawFn, address: IPv4Address) -> str:
    """``address`` written as inet_aton reads it: 1-4 parts, each dec/oct/hex."""
    count = draw(st.integers(1, 4))
    packed = address.packed
    head = list(packed[: count - 1])
    last = int.from_bytes(packed[count - 1 :], "big")
    text = ".".join(_spell_part(draw, v) for v in [*head, last])
    return text + draw(st.sampled_from(["", "."]))


@given(st.data())
def test_any_spelling_of_a_private_ipv4_is_refused(data: st.DataObject) -> None:
    """Any private IPv4 in any inet_aton spelling parses to itself and is refused."""
    address = data.draw(private_ipv4())
    spelled = data.draw(ipv4_spelling(address))
    assert parse_host_ip(spelled) == address
    with pytest.raises(BlockedURL):
        check_url(f"http://{spelled}/feed", trusted=False, allow_private=False)


@given(private_ipv4())
def test_ipv6_mapped_private_ipv4_is_refused(address: IPv4Address) -> None:
    """``[::ffff:a.b.c.d]`` of a private address is refused like the address itself."""
    with pytest.raises(BlockedURL):
        check_url(f"http://[::ffff:{address}]/", trusted=False, allow_private=False)


@given(st.integers(0, 2**32 - 1))
def test_parse_host_ip_reads_decimal_form(value: int) -> None:
    """A bare decimal number is the IPv4 address with that value."""
    assert parse_host_ip(str(value)) == IPv4Address(value)


@pytest.mark.parametrize(
    "host",
    ["2130706433", "0177.0.0.1", "0x7f.1", "127.1", "0x7F000001", "127.000.000.001", "127.0.0.1."],
)
def test_odd_loopback_spellings_parse_to_loopback(host: str) -> None:
    """The classic odd spellings of 127.0.0.1 all read as 127.0.0.1."""
    assert parse_host_ip(host) == IPv4Address("127.0.0.1")


@pytest.mark.parametrize(
    "host", ["example.org", "1.2.3.4.5", "256.1.1.1", "08.1.1.1", "0x1g.1", "", "feed.0x10"]
)
def test_names_and_invalid_numbers_are_not_addresses(host: str) -> None:
    """Host names and numbers no resolver accepts are not read as addresses."""
    assert parse_host_ip(host) is None


def test_full_width_digits_and_ideographic_dots_are_folded() -> None:
    """Unicode look-alikes that IDNA maps to ASCII still read as loopback."""
    assert parse_host_ip("１２７。０。０。１") == IPv4Address("127.0.0.1")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.31.255.255",
        "192.168.1.1",
        "100.64.0.1",  # CGNAT
        "169.254.169.254",  # cloud metadata
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "198.18.0.1",
        "::",
        "::1",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "fec0::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::127.0.0.1",  # IPv4-compatible
        "64:ff9b::7f00:1",  # NAT64
        "64:ff9b::808:808",  # NAT64, even of a public address
        "64:ff9b:1::1",  # local-use NAT64
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "2001:db8::1",
        "100::1",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    """Private, loopback, link-local, reserved and v4-embedding forms are not public."""
    assert not is_public_address(ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "8.8.8.8",
        "1.1.1.1",
        "2606:4700::1",
        "::ffff:93.184.216.34",
        "2002:5db8:d822::1",
    ],
)
def test_public_addresses_are_allowed(address: str) -> None:
    """Ordinary public unicast addresses, and v6 forms embedding them, are public."""
    assert is_public_address(ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "/etc/passwd",
        "feeds/world.xml",
        "ftp://example.org/feed",
        "gopher://example.org/",
        "javascript:alert(1)",
        "http:///nohost",
        "http://localhost:8080/",
        "http://feeds.localhost/",
        "http://[::1]/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://exa mple.org/",
        "http://example.org\\@127.0.0.1/",
        "http://[::1",
    ],
)
def test_chat_users_get_public_http_only(url: str) -> None:
    """An untrusted URL that is not public http(s) is refused before DNS."""
    with pytest.raises(BlockedURL):
        check_url(url, trusted=False, allow_private=False)


def allowed(url: str, *, trusted: bool = False, allow_private: bool = False) -> bool:
    """Whether check_url lets ``url`` through."""
    try:
        check_url(url, trusted=trusted, allow_private=allow_private)
    except BlockedURL:
        return False
    return True


@pytest.mark.parametrize("url", ["https://example.org/feed.xml", "http://93.184.216.34:8080/x"])
def test_public_urls_pass(url: str) -> None:
    """Public http(s) URLs pass the pre-DNS check."""
    assert allowed(url)


def test_private_hosts_need_both_trust_and_permission() -> None:
    """allow_private only counts for trusted requests."""
    url = "http://127.0.0.1:8080/feed"
    assert allowed(url, trusted=True, allow_private=True)
    assert not allowed(url, trusted=False, allow_private=True)
    assert not allowed(url, trusted=True, allow_private=False)


def test_trusted_requests_may_name_local_files() -> None:
    """An operator's path or file:// URL passes; a file URL on another host does not."""
    assert allowed("/srv/feeds/world.xml", trusted=True)
    assert allowed("/home/me/My Feeds/world.xml", trusted=True)
    assert allowed("file:///srv/feeds/world.xml", trusted=True)
    assert not allowed("file://fileserver/share/feed.xml", trusted=True)


def test_local_path_reads_paths_and_file_urls() -> None:
    """Paths and file:// URLs name files; http URLs do not."""
    assert local_path("/srv/a b.xml") == Path("/srv/a b.xml")
    assert local_path("file:///srv/a%20b.xml") == Path("/srv/a b.xml")
    assert local_path("file://localhost/srv/x.xml") == Path("/srv/x.xml")
    assert local_path("https://example.org/x.xml") is None


def test_redact_url_drops_secrets() -> None:
    """User info, query and fragment never reach a log line."""
    url = "https://user:secret@example.org:8443/feed?token=abc#top"
    assert redact_url(url) == "https://example.org:8443/feed?[...]"
    assert redact_url("http://example.org/feed") == "http://example.org/feed"


@pytest.mark.parametrize(
    ("url", "web"),
    [
        ("https://news.example/feed.xml", True),
        ("http://127.0.0.1:8080/feed", True),  # private hosts are the fetch guard's call
        ("javascript:alert(1)", False),
        ("file:///etc/passwd", False),
        ("/etc/passwd", False),
        ("feeds/world.xml", False),
        ("data:text/xml,<rss/>", False),
        ("ftp://example.org/feed", False),
        ("https://", False),
    ],
)
def test_only_http_urls_with_a_host_are_web_urls(url: str, web: bool) -> None:
    """What an OPML file may list: http(s) URLs with a host, nothing else."""
    assert is_web_url(url) is web


def test_operator_feed_locations_are_http_urls_or_paths(tmp_path: Path) -> None:
    """An operator's feed is an http(s) URL (kept), a file URL (kept) or a path (made
    absolute); any other scheme is refused."""
    assert operator_feed_location("https://a.example/f", tmp_path) == "https://a.example/f"
    assert operator_feed_location("file:///srv/f.xml", tmp_path) == "file:///srv/f.xml"
    assert operator_feed_location("f.xml", tmp_path) == str(tmp_path / "f.xml")
    for url in ("javascript:alert(1)", "ftp://a.example/f", "data:,x"):
        with pytest.raises(BlockedURL):
            operator_feed_location(url, tmp_path)
