"""Canonical URLs: one spelling per article, so the same link seen twice is one article.

``canonical_url`` is for comparing and storing, not for fetching: it drops the fragment and
tracking parameters and normalizes the spelling of scheme, host and port, but never touches
the path (servers may treat ``/a//b`` and ``/a/b`` differently). ``document_urls`` applies
it to the entries of one feed document, keeping the fragment where the document itself
tells entries apart by it (a comments feed, a page of dated notes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from urllib.parse import SplitResult, unquote, urlsplit

import idna

__all__ = ["TRACKING_PARAMS", "canonical_url", "document_urls", "is_tracking_param"]

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Parameters that identify the click or the campaign, never the content.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "gbraid",
        "wbraid",
        "dclid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "mc_cid",
        "mc_eid",
        "igshid",
        "ref",
        "ref_src",
        "ref_url",
        "_hsenc",
        "_hsmi",
        "__hstc",
        "__hssc",
        "__hsfp",
        "hsctatracking",
        "mkt_tok",
        "_ga",
        "_gl",
        "spm",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "rb_clid",
        "s_cid",
        "cmpid",
        "ncid",
        "sr_share",
        "at_medium",
        "at_campaign",
    }
)
_TRACKING_PREFIXES = ("utm_",)


def is_tracking_param(name: str) -> bool:
    """Whether a query parameter name (raw or percent-encoded) is a known tracking one."""
    key = unquote(name.replace("+", " ")).strip().lower()
    return key in TRACKING_PARAMS or key.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """The canonical spelling of an http(s) URL.

    Lowercases scheme and host, encodes an international host with IDNA, drops the
    default port, the fragment and tracking parameters (``utm_*``, ``fbclid``, ...),
    sorts the remaining parameters and turns an empty path into ``/``. Anything that is
    not an absolute http(s) URL comes back stripped but otherwise unchanged. The result
    is idempotent: ``canonical_url(canonical_url(u)) == canonical_url(u)``.

    Never raises, whatever the text.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return text
        netloc = _netloc(parts, scheme)
    except ValueError:  # a bad port, a broken IPv6 literal: not a URL we can improve
        return text
    query = _clean_query(parts.query)
    path = parts.path or "/"
    return f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "")


def document_urls(urls: Sequence[str]) -> list[str]:
    """The canonical URL of each entry link of one feed document ("" for none).

    A link keeps its fragment when the document holds several links to the same page
    with different fragments: such entries are different items on one page (comments
    ``post#comment-12``, notes ``now.html#2025-01-11``), not one article linked twice.
    Elsewhere the fragment goes, as in :func:`canonical_url`.

    Never raises, whatever the text.
    """
    plain = [canonical_url(url) if url else "" for url in urls]
    fragments: defaultdict[str, set[str]] = defaultdict(set)
    for url, canonical in zip(urls, plain, strict=True):
        if canonical:
            fragments[canonical].add(_fragment(url))
    return [
        f"{canonical}#{_fragment(url)}"
        if canonical and len(fragments[canonical]) > 1 and _fragment(url)
        else canonical
        for url, canonical in zip(urls, plain, strict=True)
    ]


def _fragment(url: str) -> str:
    return url.strip().partition("#")[2]


def _netloc(parts: SplitResult, scheme: str) -> str:
    """Userinfo, normalized host and non-default port.

    Raises:
        ValueError: the port is not a number in range.
    """
    host = _normalize_host(parts.hostname or "")
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    userinfo, at, _ = parts.netloc.rpartition("@")
    return f"{userinfo}{at}{host}"


def _normalize_host(host: str) -> str:
    """Lowercase, without trailing dots, international names in their ``xn--`` form."""
    host = host.lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        pass
    try:
        # IDNA 2008 refuses symbols (emoji domains exist); the older codec accepts them.
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return host


def _clean_query(query: str) -> str:
    """Drop tracking and empty parameters, sort the rest; values keep their encoding."""
    pairs = [pair for pair in query.split("&") if pair]
    kept = [pair for pair in pairs if not is_tracking_param(pair.partition("=")[0])]
    return "&".join(sorted(kept))
