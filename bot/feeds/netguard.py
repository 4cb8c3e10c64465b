"""Pure guards for outgoing fetches: which URLs and which addresses newsbrief may reach.

These checks run before DNS (on the URL as written) and again after it (on every address a
host resolves to; see :mod:`bot.feeds.fetch`). The rule is the same at each step: chat users reach
public http(s) hosts only; the operator may also name local files, and private hosts when
``NEWSBRIEF_ALLOW_PRIVATE_HOSTS`` says so.

A host is judged by the address it *means*, whatever the spelling: ``2130706433``,
``0177.0.0.1``, ``0x7f.1``, ``127.1`` and ``::ffff:127.0.0.1`` are all loopback, because the
C resolver (``inet_aton``) and browsers read them that way.
"""

from __future__ import annotations

import re
import unicodedata
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit
from urllib.request import url2pathname

from bot.errors import BlockedURL

IPAddress = IPv4Address | IPv6Address

WEB_SCHEMES = frozenset({"http", "https"})

# Special-purpose IPv4 blocks (IANA registry) that no public feed lives on. Listed by hand
# rather than trusting ``is_global`` alone, whose answer has changed between Python releases.
_BLOCKED_V4 = tuple(
    IPv4Network(net)
    for net in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, home of cloud metadata services
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
    )
)

# Public IPv6 unicast lives in 2000::/3; everything outside it (loopback, ULA, link-local,
# multicast, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, IPv4-compatible ::/96) is refused by that
# alone. These are the special blocks inside it.
_GLOBAL_UNICAST_V6 = IPv6Network("2000::/3")
_BLOCKED_V6 = tuple(
    IPv6Network(net)
    for net in (
        "2001::/23",  # IETF protocol assignments, Teredo included
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
    )
)

_IPV4_PART = re.compile(r"(?:0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)")
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})  # IDNA label separators
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def is_public_address(ip: IPAddress) -> bool:
    """Whether ``ip`` is a public unicast address a chat user's URL may reach.

    IPv6 forms that carry an IPv4 address (IPv4-mapped, 6to4, Teredo) are judged by the
    IPv4 address inside them.
    """
    if isinstance(ip, IPv4Address):
        return _is_public_v4(ip)
    return _is_public_v6(ip)


def _is_public_v4(ip: IPv4Address) -> bool:
    if any(ip in net for net in _BLOCKED_V4):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _is_public_v6(ip: IPv6Address) -> bool:
    ip = IPv6Address(int(ip))  # drop a zone id ("%eth0"): membership tests ignore it anyway
    if ip.ipv4_mapped is not None:
        return _is_public_v4(ip.ipv4_mapped)
    embedded = [ip.sixtofour, *(ip.teredo or ())]
    if any(v4 is not None and not _is_public_v4(v4) for v4 in embedded):
        return False
    if ip not in _GLOBAL_UNICAST_V6 or any(ip in net for net in _BLOCKED_V6):
        return False
    return ip.is_global


def parse_host_ip(host: str) -> IPAddress | None:
    """Read a URL host as an IP address, in any spelling a resolver would accept.

    Handles bracketed IPv6 (with an optional ``%25`` zone id) and the odd IPv4 forms of
    ``inet_aton``: one to four parts, each decimal, octal (leading ``0``) or hex (``0x``),
    the last part filling the remaining bytes (``127.1``, ``0x7f000001``). Full-width
    digits and ideographic dots are folded first, as IDNA would.

    Returns:
        The address, or None when ``host`` is a name (or no valid address).
    """
    host = unicodedata.normalize("NFKC", unquote(host)).translate(_DOTS).strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        return _parse_ipv6(host)
    return _parse_ipv4(host)


def _parse_ipv6(host: str) -> IPv6Address | None:
    try:
        return IPv6Address(host)
    except ValueError:
        return None


def _parse_ipv4(host: str) -> IPv4Address | None:
    if host.endswith("."):
        host = host[:-1]  # a fully qualified "127.0.0.1." still means loopback
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_IPV4_PART.fullmatch(p) for p in parts):
        return None
    numbers = [_ipv4_number(p) for p in parts]
    *head, last = numbers
    if any(n > 0xFF for n in head) or last >= 1 << (8 * (5 - len(parts))):
        return None
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return IPv4Address(value)


def _ipv4_number(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part[1:], 8)
    return int(part)


def local_path(url: str) -> Path | None:
    """The local file ``url`` names: a ``file://`` URL or a plain path, else None.

    Raises:
        BlockedURL: a ``file://`` URL names another host (a network share).
    """
    if _WINDOWS_DRIVE.match(url):
        return Path(url)
    parts = _split(url)
    if parts.scheme.lower() == "file":
        if parts.netloc not in ("", "localhost"):
            raise BlockedURL(url, "file URLs must name a local file")
        return Path(url2pathname(parts.path))
    if not parts.scheme and not parts.netloc:
        return Path(url)
    return None


def is_web_url(url: str) -> bool:
    """Whether ``url`` is an http(s) URL with a host: what an OPML file may list. Paths,
    ``file:``, ``javascript:`` and every other scheme are not."""
    try:
        if local_path(url) is not None:
            return False
        check_url(url, trusted=True, allow_private=True)
    except BlockedURL:
        return False
    return True


IMAGE_URL_MAX_CHARS = 2000  # longer image links are junk or tracking; platforms balk too


def image_url(url: str) -> str:
    """``url`` if it may be shown as an image (an absolute http(s) URL with a host, no
    whitespace or control characters, at most ``IMAGE_URL_MAX_CHARS``), else "".

    The bot never fetches it; the chat platform does. Feeds and pages are the only source
    of image URLs, never a chat user's input.
    """
    url = url.strip()
    if not url or len(url) > IMAGE_URL_MAX_CHARS or _UNSAFE.search(url):
        return ""
    return url if is_web_url(url) else ""


def operator_feed_location(url: str, base_dir: Path) -> str:
    """Where an operator's feed lives: an http(s) URL as given, or a local path (a
    ``file://`` URL, or a path made absolute from ``base_dir``).

    Raises:
        BlockedURL: any other scheme (``javascript:``, ``ftp:``, ``data:``...), a
            malformed URL, or a ``file://`` URL naming another host.
    """
    path = local_path(url)
    if path is None:
        check_url(url, trusted=True, allow_private=True)
        return url
    if _split(url).scheme.lower() == "file":
        return url
    path = path.expanduser()
    return str(path if path.is_absolute() else (base_dir / path).resolve())


def check_url(url: str, *, trusted: bool, allow_private: bool) -> None:
    """Refuse a URL before any DNS lookup: bad scheme, local file, or a private literal host.

    A trusted (operator) URL may be a local path or ``file://`` URL. Host names are left to
    the check after DNS resolution, except ``localhost`` names, which always mean loopback.

    Args:
        url: the URL as given.
        trusted: the URL comes from the operator (config file, CLI), not a chat user.
        allow_private: private and loopback hosts are allowed; only honoured when trusted.

    Raises:
        BlockedURL: the URL may not be fetched; ``reason`` is user-readable text.
    """
    if local_path(url) is not None:
        if not trusted:
            raise BlockedURL(redact_url(url), "only http and https links can be followed")
        return  # the operator's own path: spaces and all
    if _UNSAFE.search(url):  # what parsers disagree on (tabs, "\\") is refused outright
        raise BlockedURL(redact_url(url), "the link holds spaces, control characters or \\")
    parts = _split(url)
    if parts.scheme.lower() not in WEB_SCHEMES:
        raise BlockedURL(redact_url(url), "only http and https links can be followed")
    if not parts.hostname:
        raise BlockedURL(redact_url(url), "the link has no host name")
    if not (allow_private and trusted):
        _check_public_host(url, parts.hostname)


def _split(url: str) -> SplitResult:
    try:
        return urlsplit(url)
    except ValueError as e:  # e.g. an unclosed "[" in an IPv6 host
        raise BlockedURL(redact_url(url), "the link is malformed") from e


def _check_public_host(url: str, host: str) -> None:
    name = host.rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        raise BlockedURL(redact_url(url), "local and private addresses are not allowed")
    ip = parse_host_ip(host)
    if ip is not None and not is_public_address(ip):
        raise BlockedURL(redact_url(url), "local and private addresses are not allowed")


def redact_url(url: str) -> str:
    """``url`` safe for logs and error text: no user info, query or fragment.

    Feed URLs may carry tokens (``?key=...``, ``user:pass@``); those never reach a log
    line or a chat.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<malformed URL>"
    if not parts.scheme or parts.scheme.lower() == "file":
        return url
    netloc = parts.netloc.rpartition("@")[2]
    query = "?[...]" if parts.query else ""
    return f"{parts.scheme}://{netloc}{parts.path}{query}"
