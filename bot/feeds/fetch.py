"""The guarded HTTP fetcher: the one way newsbrief reads a URL.

:class:`HttpFetcher` implements :class:`bot.ports.Fetcher` with h11 over asyncio streams
(:mod:`bot.feeds.http1`; httpx cost three times the CPU a fetch and 60 ms to import). Its
guards:

- **Addresses are checked after DNS and the socket goes to a checked address.**
  :class:`_Dialer` resolves the host itself, refuses it if *any* address is private, and
  connects to the vetted IP; the Host header and TLS SNI still name the original host. A
  second lookup (DNS rebinding) never happens, because there is none.
- **Redirects are followed by hand**, each hop re-checked (scheme, literal host, then
  addresses at connect time), at most ``max_redirects``.
- **The byte cap counts decompressed bytes** and gzip/deflate are inflated here, in bounded
  steps, so a gzip bomb is stopped after ``max_bytes`` plus one step, never inflated whole.
- **One total deadline** covers DNS, connect, redirects and the body, so a server that
  drips a byte at a time cannot hold a fetch open.

A connection is kept for the next request to the same host under the same policy only, so
one opened for the operator's private host never serves a chat user's request. No
environment proxy is used (one would dial past the guard), and no cookie is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
import os
import re
import socket
import ssl
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from ipaddress import ip_address
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, Protocol

from bot.errors import BlockedURL, FetchError, FetchTimeout, HTTPStatusError, TooLarge
from bot.feeds.http1 import (
    Connection,
    ConnectTimeoutError,
    Head,
    StaleConnection,
    Target,
    WireError,
    client_tls,
    join_url,
    open_connection,
    parse_url,
)
from bot.feeds.netguard import (
    WEB_SCHEMES,
    IPAddress,
    check_url,
    is_public_address,
    local_path,
    parse_host_ip,
    redact_url,
)
from bot.ports import FetchRequest, FetchResult

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "newsbrief/0.1 (+https://github.com/newsbrief)"

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""``(host, port) -> addresses``: how a host name becomes IP address strings."""

Dial = Callable[[IPAddress, int], tuple[str, int]]
"""``(vetted address, port) -> (host, port)`` the socket really connects to. A test seam
only: it lets "public.test resolves to 93.184.216.34" reach a loopback server."""

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_STEP = 64 * 1024  # most bytes one decompression step may produce
_KEEP_IDLE = 5.0  # seconds a connection is kept for the next request (httpx's keepalive_expiry)
_MAX_IDLE = 20  # connections kept at most (httpx's max_keepalive_connections)
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/html;q=0.9, text/xml;q=0.8, */*;q=0.5"
)
_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# A header value that can go on the wire: visible ASCII, inner spaces and tabs (within h11's rule).
_FIELD_VALUE = re.compile(r"[!-~]+(?:[ \t]+[!-~]+)*")


async def system_resolve(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the system resolver, off the loop (``loop.getaddrinfo``).

    Raises:
        OSError: the name does not resolve.
    """
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date.

    Args:
        value: the header value, if any.
        now: the current time in seconds since the epoch (a date is measured from it).

    Returns:
        The wait in seconds (0 for a date in the past), or None if absent or unreadable.
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None  # HTTP dates are always GMT; a zone-less date is not one
    return max(0.0, when.timestamp() - now)


class _AddressRefused(Exception):
    """A host resolved to an address the policy refuses (raised while dialing)."""

    def __init__(self, host: str, address: IPAddress) -> None:
        super().__init__(f"{host} resolves to {address}, a local or private address")


class _Dialer:
    """Resolve, check every address, connect to a checked one (TLS named for the host)."""

    def __init__(
        self,
        *,
        resolver: Resolver,
        dial: Dial | None,
        connect_timeout: float,
        tls: Callable[[], ssl.SSLContext],
    ) -> None:
        self._resolver = resolver
        self._dial = dial
        self._connect_timeout = connect_timeout
        self._tls = tls

    async def connect(self, target: Target, *, allow_private: bool) -> Connection:
        """A connection to the first reachable vetted address of ``target``'s host.

        Raises:
            _AddressRefused: an address of the host is not allowed.
            ConnectTimeoutError: resolving, connecting and TLS took ``connect_timeout``.
            WireError: the host does not resolve, no address answers, or TLS failed.
        """
        try:
            async with asyncio.timeout(self._connect_timeout):
                addresses = await self._vetted(target.host, target.port, allow_private)
                return await self._first_answering(addresses, target)
        except TimeoutError as e:
            raise ConnectTimeoutError(f"connecting to {target.host} timed out") from e

    async def _vetted(self, host: str, port: int, allow_private: bool) -> list[IPAddress]:
        literal = parse_host_ip(host)
        addresses = [literal] if literal is not None else await self._resolve(host, port)
        if not allow_private:
            for address in addresses:
                if not is_public_address(address):
                    raise _AddressRefused(host, address)
        return addresses

    async def _resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            answers = await self._resolver(host, port)
        except OSError as e:
            raise WireError("ConnectError", f"cannot resolve {host}: {e}") from e
        try:
            return [ip_address(answer) for answer in answers]
        except ValueError as e:
            raise WireError("ConnectError", f"resolver gave a bad address for {host}") from e

    async def _first_answering(self, addresses: list[IPAddress], target: Target) -> Connection:
        if not addresses:
            raise WireError("ConnectError", f"{target.host} has no address")
        tls = self._tls() if target.scheme == "https" else None
        for address in addresses:
            host, port = (
                self._dial(address, target.port) if self._dial else (str(address), target.port)
            )
            try:
                return await open_connection(
                    host, port, tls=tls, server_hostname=target.host if tls else None
                )
            except ssl.SSLError as e:
                raise WireError("ConnectError", str(e)) from e
            except (OSError, OverflowError):
                continue  # try the host's next address, as a browser would
        raise WireError("ConnectError", "All connection attempts failed")


class _Route(NamedTuple):
    """What a kept connection may serve: the same host and port, scheme and policy."""

    allow_private: bool
    scheme: str
    host: str
    port: int


class _Idle:
    """Connections kept open after a complete answer, for their own route only.

    At most ``_MAX_IDLE``, each for ``_KEEP_IDLE`` seconds (httpx's limits), so a
    connection opened under the operator's policy never serves a chat user's request,
    and one the server closed, or sent anything on, while it waited is never used.
    ``now`` is a monotonic clock.
    """

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._kept: list[tuple[float, _Route, Connection]] = []

    def take(self, route: _Route) -> Connection | None:
        """A kept connection for ``route`` (it leaves the pool), or None."""
        self._expire()
        for index, (_, kept_route, connection) in enumerate(self._kept):
            if kept_route == route:
                del self._kept[index]
                return connection
        return None

    def put(self, route: _Route, connection: Connection) -> None:
        """Keep ``connection`` if its answer is complete and both sides keep it, else close it."""
        if not connection.ready_for_next():
            connection.close()
            return
        if len(self._kept) >= _MAX_IDLE:
            self._kept.pop(0)[2].close()  # the one kept longest goes
        self._kept.append((self._now(), route, connection))

    def close(self) -> None:
        """Close every kept connection."""
        kept, self._kept = self._kept, []
        for _, _, connection in kept:
            connection.close()

    def _expire(self) -> None:
        now, fresh = self._now(), []
        for kept in self._kept:
            since, _, connection = kept
            if 0 <= now - since <= _KEEP_IDLE and connection.alive():
                fresh.append(kept)
            else:
                connection.close()
        self._kept = fresh


class _Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        yield data


class _Inflater:
    """Bounded zlib inflation: each step yields at most ``_STEP`` bytes."""

    def __init__(self, wbits: int) -> None:
        self._wbits = wbits
        self._z = zlib.decompressobj(wbits)
        self._started = False
        self._done = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while not self._done:
            out = self._step(data)
            if out:
                yield out
            if self._z.eof:
                data = self._next_member()
                self._done = not data
            else:
                data = self._z.unconsumed_tail
                if not data and len(out) < _STEP:
                    return  # input used up and nothing held back: wait for more

    def _step(self, data: bytes) -> bytes:
        try:
            out = self._z.decompress(data, _STEP)
        except zlib.error:
            if self._started or self._wbits != zlib.MAX_WBITS:
                raise
            # "deflate" is sometimes sent raw, without the zlib header
            self._wbits = -zlib.MAX_WBITS
            self._z = zlib.decompressobj(self._wbits)
            out = self._z.decompress(data, _STEP)
        self._started = self._started or bool(out)
        return out

    def _next_member(self) -> bytes:
        rest = self._z.unused_data
        if not rest.startswith(b"\x1f\x8b"):
            return b""  # trailing junk after the stream: ignored, as browsers do
        self._z = zlib.decompressobj(self._wbits)  # concatenated gzip members
        return rest


def _decoder(content_encoding: str, url: str) -> _Decoder:
    coding = content_encoding.strip().lower()
    if coding in ("", "identity"):
        return _Identity()
    if coding in ("gzip", "x-gzip"):
        return _Inflater(16 + zlib.MAX_WBITS)
    if coding == "deflate":
        return _Inflater(zlib.MAX_WBITS)
    raise FetchError(url, f"unsupported Content-Encoding {coding!r}")


@dataclass(frozen=True)
class _Policy:
    """What one request may reach."""

    trusted: bool
    allow_private: bool


class HttpFetcher:
    """Fetches http(s) URLs (and, for the operator, local files) behind every guard.

    Implements :class:`bot.ports.Fetcher`; see it for the error contract.

    Args:
        allow_private_hosts: trusted requests may reach private and loopback hosts.
        connect_timeout: seconds for DNS plus TCP (and TLS) connect.
        total_timeout: seconds for the whole fetch: every hop and the whole body.
        max_redirects: redirects followed before giving up.
        user_agent: the User-Agent header.
        resolver: how host names become addresses; the system resolver by default.
        dial: where a vetted address is really dialed (test seam; None in production).
        ssl_context: trust for https; certifi's roots (what httpx used) when None.
        now: the wall clock, for Retry-After dates.
        monotonic: a monotonic clock, for how long a connection is kept.

    Raises:
        ValueError: a timeout is not positive or ``max_redirects`` is negative.
    """

    def __init__(
        self,
        *,
        allow_private_hosts: bool = False,
        connect_timeout: float = 10.0,
        total_timeout: float = 30.0,
        max_redirects: int = 5,
        user_agent: str = DEFAULT_USER_AGENT,
        resolver: Resolver | None = None,
        dial: Dial | None = None,
        ssl_context: ssl.SSLContext | None = None,
        now: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if connect_timeout <= 0 or total_timeout <= 0 or max_redirects < 0:
            raise ValueError("timeouts must be positive and max_redirects not negative")
        self._allow_private = allow_private_hosts
        self._total_timeout = total_timeout
        self._max_redirects = max_redirects
        self._user_agent = user_agent
        self._ssl_context = ssl_context
        self._now = now
        self._dialer = _Dialer(
            resolver=resolver or system_resolve,
            dial=dial,
            connect_timeout=connect_timeout,
            tls=self._tls,
        )
        self._idle = _Idle(monotonic)

    async def __aenter__(self) -> HttpFetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections kept open. The fetcher can be used again afterwards."""
        self._idle.close()

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Fetch ``request.url`` behind every guard.

        Raises:
            BlockedURL: bad scheme, a private address, too many redirects, a local path
                from an untrusted request.
            TooLarge: the body passed ``request.max_bytes`` after decompression.
            FetchTimeout: connecting took ``connect_timeout`` or the fetch ``total_timeout``.
            HTTPStatusError: the server answered 4xx or 5xx.
            FetchError: any other failure (network, protocol, unreadable file).
        """
        policy = _Policy(request.trusted, self._allow_private and request.trusted)
        try:
            async with asyncio.timeout(self._total_timeout):
                return await self._fetch(request, policy)
        except TimeoutError as e:
            raise FetchTimeout(
                redact_url(request.url), f"no complete answer within {self._total_timeout:g} s"
            ) from e

    async def _fetch(self, request: FetchRequest, policy: _Policy) -> FetchResult:
        check_url(request.url, trusted=policy.trusted, allow_private=policy.allow_private)
        path = local_path(request.url)
        if path is not None:
            return await asyncio.to_thread(_read_file, path, request)
        target = _vet_hop(request.url, policy)
        for _ in range(self._max_redirects + 1):
            answer = await self._hop(target, request, policy)
            if isinstance(answer, FetchResult):
                return answer
            target = _vet_hop(_joined(target, answer), policy)
            log.debug("redirected to %s", redact_url(target.url))
        raise BlockedURL(redact_url(request.url), f"more than {self._max_redirects} redirects")

    async def _hop(
        self, target: Target, request: FetchRequest, policy: _Policy
    ) -> FetchResult | str:
        """One request; a redirect's Location (unvetted) or the result.

        Raises:
            BlockedURL, TooLarge, FetchTimeout, HTTPStatusError, FetchError: see ``fetch``.
        """
        shown = redact_url(target.url)
        log.debug("fetching %s", shown)
        route = _Route(policy.allow_private, target.scheme, target.host, target.port)
        try:
            connection, head = await self._send(route, target, request)
            answer: FetchResult | str | None = None
            try:
                answer = await self._answer(connection, head, target, request)
                return answer
            finally:
                if isinstance(answer, str):
                    # the next hop follows at once, maybe to this host: before a stray
                    # body after the redirect could show, so it is never read as the
                    # next answer (httpx closed a redirect's connection too)
                    connection.close()
                else:
                    self._idle.put(route, connection)
        except _AddressRefused as e:
            log.debug("refused: %s", e)
            raise BlockedURL(shown, "local and private addresses are not allowed") from e
        except ConnectTimeoutError as e:
            raise FetchTimeout(shown, f"timed out ({e.kind})") from e
        except WireError as e:
            detail = str(e) or "the connection was closed or reset"
            raise FetchError(shown, f"{e.kind}: {detail}") from e

    async def _send(
        self, route: _Route, target: Target, request: FetchRequest
    ) -> tuple[Connection, Head]:
        """The request sent and its head read, on a kept connection or a new one.

        A kept connection the server closed just as it was reused fails before any byte of
        an answer (:class:`StaleConnection`); the request is then sent once more, on a new
        connection (a GET may be repeated). An answer that began and then broke is reported.

        Raises:
            _AddressRefused, ConnectTimeoutError, WireError: see :meth:`_Dialer.connect`
                and :meth:`Connection.request`.
        """
        headers = self._headers(target, request)
        kept = self._idle.take(route)
        if kept is not None:
            try:
                return kept, await kept.request(target, headers)
            except StaleConnection:
                kept.close()  # and on to a new connection
            except BaseException:
                kept.close()  # cancelled (the total deadline): nothing is left open
                raise
        connection = await self._dialer.connect(target, allow_private=route.allow_private)
        try:
            return connection, await connection.request(target, headers)
        except BaseException:
            connection.close()
            raise

    def _headers(self, target: Target, request: FetchRequest) -> list[tuple[str, str]]:
        """What httpx sent after Host."""
        # Compression is decoded here, under the byte cap, so only codings we inflate are asked.
        headers = [
            ("Accept", _ACCEPT),
            ("Accept-Encoding", "gzip, deflate"),
            ("Connection", "keep-alive"),
            ("User-Agent", self._user_agent),
        ]
        # A validator that cannot go on the wire (a non-ASCII ETag a server sent) is left
        # out: a plain GET, not a request that fails on every pass.
        if request.etag and _FIELD_VALUE.fullmatch(request.etag):
            headers.append(("If-None-Match", request.etag))
        if request.last_modified and _FIELD_VALUE.fullmatch(request.last_modified):
            headers.append(("If-Modified-Since", request.last_modified))
        if target.authorization:
            headers.append(("Authorization", target.authorization))
        return headers

    async def _answer(
        self, exchange: Connection, head: Head, target: Target, request: FetchRequest
    ) -> FetchResult | str:
        status, headers = head.status, head.headers
        shown = redact_url(target.url)
        if status in _REDIRECTS:
            return _location(head, target)
        if status == 304:
            return _not_modified(head, target, request)
        if status >= 400:
            retry_after = parse_retry_after(headers.get("retry-after"), self._now())
            raise HTTPStatusError(shown, status, retry_after)
        if not 200 <= status < 300:
            raise FetchError(shown, f"unexpected HTTP {status}")
        body = await _read_capped(exchange, head, request.max_bytes, shown)
        return FetchResult(
            url=target.url,
            body=body,
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            content_type=headers.get("content-type", ""),
        )

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = client_tls()  # loading the roots costs: only on a first https
        return self._ssl_context


def _vet_hop(url: str, policy: _Policy) -> Target:
    """Check one hop's URL as written and as it will be dialed.

    Raises:
        BlockedURL: the URL is malformed, not http(s), or names a refused host.
    """
    check_url(url, trusted=policy.trusted, allow_private=policy.allow_private)
    if url.partition(":")[0].lower() not in WEB_SCHEMES:  # file:// is refused even if trusted
        raise BlockedURL(redact_url(url), "only http and https links can be followed")
    try:
        target = parse_url(url)
    except ValueError as e:
        raise BlockedURL(redact_url(url), "the link is malformed") from e
    if not 0 < target.port < 65536:  # httpx let these through, to fail at connect
        raise BlockedURL(redact_url(url), "the link is malformed")
    check_url(target.url, trusted=policy.trusted, allow_private=policy.allow_private)
    return target


def _joined(target: Target, location: str) -> str:
    """The absolute URL a redirect leads to.

    Raises:
        BlockedURL: the Location is malformed.
    """
    try:
        return join_url(target.url, location)
    except ValueError as e:
        raise BlockedURL(redact_url(target.url), "the redirect target is malformed") from e


def _location(head: Head, target: Target) -> str:
    location = head.headers.get("location", "").strip()
    if not location:
        raise FetchError(redact_url(target.url), f"HTTP {head.status} without Location")
    return location


def _not_modified(head: Head, target: Target, request: FetchRequest) -> FetchResult:
    return FetchResult(
        url=target.url,
        body=b"",
        not_modified=True,
        etag=head.headers.get("etag") or request.etag,
        last_modified=head.headers.get("last-modified") or request.last_modified,
    )


async def _read_capped(exchange: Connection, head: Head, max_bytes: int, shown: str) -> bytes:
    """The decoded body, refused as soon as it passes ``max_bytes``.

    Raises:
        TooLarge: the decoded body passed ``max_bytes``.
        FetchError: an unsupported or corrupt Content-Encoding.
        WireError: the connection failed or the body broke the protocol.
    """
    decoder = _decoder(head.headers.get("content-encoding", ""), shown)
    declared = head.headers.get("content-length", "")
    if (
        isinstance(decoder, _Identity)
        and declared.isascii()
        and declared.isdigit()
        and int(declared) > max_bytes
    ):
        raise TooLarge(shown, f"the body is {declared} bytes, over {max_bytes}")
    parts: list[bytes] = []
    total = 0
    async with contextlib.aclosing(exchange.body()) as body:
        async for raw in body:
            try:
                for chunk in decoder.feed(raw):
                    total += len(chunk)
                    if total > max_bytes:
                        raise TooLarge(shown, f"the body passed {max_bytes} bytes")
                    parts.append(chunk)
            except zlib.error as e:
                raise FetchError(shown, f"corrupt compressed body: {e}") from e
    return b"".join(parts)


def _read_file(path: Path, request: FetchRequest) -> FetchResult:
    """Read an operator's local file (in a worker thread), with the same cap and validators.

    Raises:
        TooLarge: the file is larger than ``request.max_bytes``.
        FetchError: the file cannot be read.
    """
    path = path.expanduser()
    try:
        with path.open("rb") as f:
            stat = os.fstat(f.fileno())
            etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
            modified = formatdate(stat.st_mtime, usegmt=True)
            if request.etag == etag:
                return FetchResult(
                    request.url, b"", not_modified=True, etag=etag, last_modified=modified
                )
            body = f.read(request.max_bytes + 1)
    except OSError as e:
        raise FetchError(str(path), f"cannot read the file: {e.strerror or e}") from e
    if len(body) > request.max_bytes:
        raise TooLarge(str(path), f"the file is over {request.max_bytes} bytes")
    content_type = mimetypes.guess_type(path.name)[0] or ""
    return FetchResult(
        request.url, body, etag=etag, last_modified=modified, content_type=content_type
    )
