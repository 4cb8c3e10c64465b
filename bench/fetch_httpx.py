"""The guarded fetcher as it was before issue 11's last change: httpx over httpcore, its HTTP
side kept here as it was so ``python -m bench fetch`` can measure the h11 fetcher against
it in the same run. Not used by newsbrief. What does not touch HTTP (decoding,
local files, Retry-After, the policy, the resolver) is the product's, imported from
``bot.feeds.fetch``: only the HTTP client is kept as it was."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
import zlib
from collections.abc import Callable, Iterable
from ipaddress import ip_address
from types import TracebackType

import httpcore
import httpx

from bot.errors import BlockedURL, FetchError, FetchTimeout, HTTPStatusError, TooLarge
from bot.feeds.fetch import (  # what the two fetchers share: not what the bench compares
    _ACCEPT,
    _REDIRECTS,
    DEFAULT_USER_AGENT,
    Dial,
    Resolver,
    _AddressRefused,
    _decoder,
    _Identity,
    _Policy,
    _read_file,
    parse_retry_after,
    system_resolve,
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


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's dialer: resolve, check every address, connect to a checked one."""

    def __init__(self, *, allow_private: bool, resolver: Resolver, dial: Dial | None) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        self._dial = dial
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect to the first reachable vetted address of ``host``.

        Raises:
            _AddressRefused: an address of ``host`` is not allowed.
            httpcore.ConnectError: the host does not resolve or no address answers.
            httpcore.ConnectTimeout: resolving or connecting took too long.
        """
        error: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in await self._vetted(host, port, timeout):
            target, target_port = self._dial(address, port) if self._dial else (str(address), port)
            try:
                return await self._inner.connect_tcp(
                    target, target_port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as e:
                error = e  # try the host's next address, as a browser would
        raise error

    async def _vetted(self, host: str, port: int, within: float | None) -> list[IPAddress]:
        literal = parse_host_ip(host)
        addresses = [literal] if literal is not None else await self._resolve(host, port, within)
        if not self._allow_private:
            for address in addresses:
                if not is_public_address(address):
                    raise _AddressRefused(host, address)
        return addresses

    async def _resolve(self, host: str, port: int, within: float | None) -> list[IPAddress]:
        try:
            async with asyncio.timeout(within):
                answers = await self._resolver(host, port)
        except TimeoutError as e:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from e
        except OSError as e:
            raise httpcore.ConnectError(f"cannot resolve {host}: {e}") from e
        try:
            return [ip_address(answer) for answer in answers]
        except ValueError as e:
            raise httpcore.ConnectError(f"resolver gave a bad address for {host}") from e

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never used: unix sockets are not a way out of the guard.

        Raises:
            httpcore.ConnectError: always.
        """
        raise httpcore.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        """Wait (httpcore uses this between connect retries)."""
        await self._inner.sleep(seconds)


class _PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, dialing through a :class:`_GuardedBackend`."""

    def __init__(self, backend: _GuardedBackend, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx (0.27/0.28) has no public way to hand httpcore a network backend, so the
        # pool it built is swapped for one that dials through the guard. The fetch tests
        # that resolve a test-only host name fail if this ever stops taking effect.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            network_backend=backend,
            max_connections=100,  # httpx's default limits
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
        )


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
        ssl_context: trust for https; httpx's default (certifi) when None.
        now: the wall clock, for Retry-After dates.

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
    ) -> None:
        if connect_timeout <= 0 or total_timeout <= 0 or max_redirects < 0:
            raise ValueError("timeouts must be positive and max_redirects not negative")
        self._allow_private = allow_private_hosts
        self._connect_timeout = connect_timeout
        self._total_timeout = total_timeout
        self._max_redirects = max_redirects
        self._user_agent = user_agent
        self._resolver = resolver or system_resolve
        self._dial = dial
        self._ssl_context = ssl_context
        self._now = now
        self._clients: dict[bool, httpx.AsyncClient] = {}

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
        """Close pooled connections. The fetcher can be used again afterwards."""
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()

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
        url = request.url
        for _ in range(self._max_redirects + 1):
            answer = await self._hop(_vet_hop(url, policy), request, policy)
            if isinstance(answer, FetchResult):
                return answer
            log.debug("redirected to %s", redact_url(str(answer)))
            url = str(answer)
        raise BlockedURL(redact_url(request.url), f"more than {self._max_redirects} redirects")

    async def _hop(
        self, target: httpx.URL, request: FetchRequest, policy: _Policy
    ) -> FetchResult | httpx.URL:
        shown = redact_url(str(target))
        log.debug("fetching %s", shown)
        client = self._client(policy.allow_private)
        try:
            response = await client.send(_build(client, target, request), stream=True)
            try:
                return await self._answer(response, target, request)
            finally:
                await response.aclose()
        except _AddressRefused as e:
            log.debug("refused: %s", e)
            raise BlockedURL(shown, "local and private addresses are not allowed") from e
        except httpx.TimeoutException as e:
            raise FetchTimeout(shown, f"timed out ({type(e).__name__})") from e
        except httpx.HTTPError as e:
            detail = str(e) or "the connection was closed or reset"
            raise FetchError(shown, f"{type(e).__name__}: {detail}") from e

    async def _answer(
        self, response: httpx.Response, target: httpx.URL, request: FetchRequest
    ) -> FetchResult | httpx.URL:
        status = response.status_code
        shown = redact_url(str(target))
        if status in _REDIRECTS:
            return _location(response, target)
        if status == 304:
            return _not_modified(response, target, request)
        if status >= 400:
            retry_after = parse_retry_after(response.headers.get("retry-after"), self._now())
            raise HTTPStatusError(shown, status, retry_after)
        if not 200 <= status < 300:
            raise FetchError(shown, f"unexpected HTTP {status}")
        body = await _read_capped(response, request.max_bytes, shown)
        return FetchResult(
            url=str(target),
            body=body,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            content_type=response.headers.get("content-type", ""),
        )

    def _client(self, allow_private: bool) -> httpx.AsyncClient:
        client = self._clients.get(allow_private)
        if client is None:
            client = self._new_client(allow_private)
            self._clients[allow_private] = client
        return client

    def _new_client(self, allow_private: bool) -> httpx.AsyncClient:
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context(trust_env=False)
        backend = _GuardedBackend(
            allow_private=allow_private, resolver=self._resolver, dial=self._dial
        )
        return httpx.AsyncClient(
            transport=_PinnedTransport(backend, self._ssl_context),
            timeout=httpx.Timeout(self._total_timeout, connect=self._connect_timeout),
            follow_redirects=False,
            trust_env=False,  # an environment proxy would dial for us, past the guard
            headers={"User-Agent": self._user_agent, "Accept": _ACCEPT},
        )


def _vet_hop(url: str, policy: _Policy) -> httpx.URL:
    """Check one hop's URL as written and as httpx reads it (the host it will dial)."""
    check_url(url, trusted=policy.trusted, allow_private=policy.allow_private)
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as e:
        raise BlockedURL(redact_url(url), "the link is malformed") from e
    if target.scheme not in WEB_SCHEMES:  # a redirect to file:// is refused even when trusted
        raise BlockedURL(redact_url(url), "only http and https links can be followed")
    check_url(str(target), trusted=policy.trusted, allow_private=policy.allow_private)
    return target


def _build(client: httpx.AsyncClient, target: httpx.URL, request: FetchRequest) -> httpx.Request:
    # Compression is decoded here, under the byte cap, so only codings we inflate are asked.
    headers = {"Accept-Encoding": "gzip, deflate"}
    if request.etag:
        headers["If-None-Match"] = request.etag
    if request.last_modified:
        headers["If-Modified-Since"] = request.last_modified
    return client.build_request("GET", target, headers=headers)


def _location(response: httpx.Response, target: httpx.URL) -> httpx.URL:
    location = response.headers.get("location", "").strip()
    if not location:
        raise FetchError(redact_url(str(target)), f"HTTP {response.status_code} without Location")
    try:
        return target.join(location)
    except httpx.InvalidURL as e:
        raise BlockedURL(redact_url(str(target)), "the redirect target is malformed") from e


def _not_modified(
    response: httpx.Response, target: httpx.URL, request: FetchRequest
) -> FetchResult:
    return FetchResult(
        url=str(target),
        body=b"",
        not_modified=True,
        etag=response.headers.get("etag") or request.etag,
        last_modified=response.headers.get("last-modified") or request.last_modified,
    )


async def _read_capped(response: httpx.Response, max_bytes: int, shown: str) -> bytes:
    """The decoded body, refused as soon as it passes ``max_bytes``.

    Raises:
        TooLarge: the decoded body passed ``max_bytes``.
        FetchError: an unsupported or corrupt Content-Encoding.
    """
    decoder = _decoder(response.headers.get("content-encoding", ""), shown)
    declared = response.headers.get("content-length", "")
    if (
        isinstance(decoder, _Identity)
        and declared.isascii()
        and declared.isdigit()
        and int(declared) > max_bytes
    ):
        raise TooLarge(shown, f"the body is {declared} bytes, over {max_bytes}")
    parts: list[bytes] = []
    total = 0
    async for raw in response.aiter_raw():
        try:
            for chunk in decoder.feed(raw):
                total += len(chunk)
                if total > max_bytes:
                    raise TooLarge(shown, f"the body passed {max_bytes} bytes")
                parts.append(chunk)
        except zlib.error as e:
            raise FetchError(shown, f"corrupt compressed body: {e}") from e
    return b"".join(parts)
