"""The guarded fetcher against a real loopback server: addresses, redirects, caps, time."""

from __future__ import annotations

import asyncio
import gzip
import shutil
import ssl
import subprocess
import sys
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from email.utils import formatdate
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.clock import ManualClock
from bot.errors import BlockedURL, FetchError, FetchTimeout, HTTPStatusError, TooLarge
from bot.feeds.fetch import DEFAULT_USER_AGENT, HttpFetcher, parse_retry_after
from bot.ingest.pipeline import Ingestor
from bot.ports import FetchRequest
from bot.store.sqlite import SqliteStore
from bot.types import FeedOrigin
from tests.conftest import CORPUS
from tests.fakes.http_server import (
    Fault,
    LocalServer,
    bomb,
    dial_to,
    fake_resolver,
    hang,
    rate_limited,
    redirect_loop,
    reset,
    server_error,
    slow_drip,
    wrong_length,
)

PUBLIC = "93.184.216.34"
MiB = 1 << 20
DNS = {
    "public.test": [PUBLIC],
    "internal.test": ["10.0.0.7"],
    "mixed.test": [PUBLIC, "127.0.0.1"],
}

# Files opened while a test watches them (see _watch_opens): an audit hook is the one way
# to observe that the fetcher never touched the file system, without mocking it.
_WATCHED: set[str] = set()
_OPENED: list[str] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _WATCHED and args and str(args[0]) in _WATCHED:
        _OPENED.append(str(args[0]))


sys.addaudithook(_audit)


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    """A loopback HTTP server."""
    async with LocalServer() as local:
        yield local


@pytest.fixture
async def guarded(server: LocalServer) -> AsyncIterator[HttpFetcher]:
    """The production policy, with test names dialed to the loopback server."""
    async with HttpFetcher(resolver=fake_resolver(DNS), dial=dial_to(server)) as fetcher:
        yield fetcher


@pytest.fixture
async def operator(server: LocalServer) -> AsyncIterator[HttpFetcher]:
    """A fetcher whose operator allows private hosts (for trusted requests only)."""
    async with HttpFetcher(
        allow_private_hosts=True, resolver=fake_resolver(DNS), dial=dial_to(server)
    ) as fetcher:
        yield fetcher


def public(server: LocalServer, path: str) -> str:
    """The URL of ``path`` under the test name that resolves to a public address."""
    return server.url(path, host="public.test")


def req(url: str, max_bytes: int = MiB, **kwargs: Any) -> FetchRequest:
    """A fetch request with a 1 MiB cap unless told otherwise."""
    return FetchRequest(url=url, max_bytes=max_bytes, **kwargs)


# --- addresses after DNS, pinned ---------------------------------------------------------


async def test_public_name_is_dialed_at_its_vetted_address(server: LocalServer) -> None:
    """A public name connects to the address that was checked, keeping its Host header."""
    server.route("/feed.xml", b"<rss/>", content_type="application/rss+xml")
    dialed: list[IPv4Address | IPv6Address] = []

    def dial(address: IPv4Address | IPv6Address, port: int) -> tuple[str, int]:
        dialed.append(address)
        return "127.0.0.1", server.port

    async with HttpFetcher(resolver=fake_resolver(DNS), dial=dial) as fetcher:
        result = await fetcher.fetch(req(public(server, "/feed.xml")))
    assert result.body == b"<rss/>"
    assert result.content_type == "application/rss+xml"
    assert dialed == [IPv4Address(PUBLIC)]
    assert server.requests[-1].headers["Host"] == f"public.test:{server.port}"


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "2130706433", "0x7f.1", "[::ffff:127.0.0.1]", "localhost", "internal.test"],
)
async def test_redirect_to_a_private_host_is_refused_before_reaching_it(
    server: LocalServer, guarded: HttpFetcher, host: str
) -> None:
    """A public first hop redirecting to loopback or a private name never reaches the target."""
    server.route("/target", b"secret")
    server.redirect("/start", server.url("/target", host=host))
    with pytest.raises(BlockedURL):
        await guarded.fetch(req(public(server, "/start")))
    assert server.hits["/start"] == 1
    assert server.hits["/target"] == 0


@pytest.mark.parametrize("host", ["2130706433", "[::ffff:127.0.0.1]", "0177.0.0.1", "127.1"])
async def test_odd_spellings_of_loopback_are_refused(
    server: LocalServer, operator: HttpFetcher, host: str
) -> None:
    """Decimal, octal, short and IPv6-mapped loopback never connect for a chat user."""
    server.route("/feed", b"secret")
    with pytest.raises(BlockedURL):
        await operator.fetch(req(server.url("/feed", host=host)))
    assert server.hits.total() == 0


async def test_a_name_with_any_private_address_is_refused(
    server: LocalServer, guarded: HttpFetcher
) -> None:
    """Every address of a name is checked, not just the first one."""
    server.route("/feed", b"secret")
    with pytest.raises(BlockedURL):
        await guarded.fetch(req(server.url("/feed", host="mixed.test")))
    assert server.hits.total() == 0


async def test_the_name_is_resolved_once_so_rebinding_cannot_switch_it(
    server: LocalServer,
) -> None:
    """The connection uses the checked answer; a second, private answer is never asked for."""
    server.route("/feed", b"ok")
    answers = iter([[PUBLIC], ["127.0.0.1"]])
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    async with HttpFetcher(resolver=rebinding, dial=dial_to(server)) as fetcher:
        result = await fetcher.fetch(req(server.url("/feed", host="rebind.test")))
    assert result.body == b"ok"
    assert calls == ["rebind.test"]


async def test_trusted_request_reaches_loopback_when_the_operator_allows(
    server: LocalServer, operator: HttpFetcher
) -> None:
    """allow_private_hosts + a trusted request fetch from the loopback server."""
    server.route("/feed", b"<feed/>")
    result = await operator.fetch(req(server.url("/feed"), trusted=True))
    assert result.body == b"<feed/>"


async def test_untrusted_request_never_reaches_loopback_even_when_allowed(
    server: LocalServer, operator: HttpFetcher
) -> None:
    """allow_private_hosts never extends to chat users' requests."""
    server.route("/feed", b"<feed/>")
    with pytest.raises(BlockedURL):
        await operator.fetch(req(server.url("/feed"), trusted=False))
    assert server.hits["/feed"] == 0


async def test_system_resolver_serves_trusted_localhost(server: LocalServer) -> None:
    """The default resolver (getaddrinfo) reaches localhost for a trusted, allowed request."""
    server.route("/feed", b"local")
    async with HttpFetcher(allow_private_hosts=True) as fetcher:
        result = await fetcher.fetch(req(server.url("/feed", host="localhost"), trusted=True))
    assert result.body == b"local"


async def test_unknown_name_is_a_fetch_error(guarded: HttpFetcher) -> None:
    """A name that does not resolve is a FetchError, not a guard refusal."""
    with pytest.raises(FetchError) as caught:
        await guarded.fetch(req("http://nowhere.test/feed"))
    assert type(caught.value) is FetchError


# --- redirects -----------------------------------------------------------------------------


async def test_relative_redirect_is_followed(server: LocalServer, guarded: HttpFetcher) -> None:
    """A relative Location resolves against the current URL; the result names the final URL."""
    server.redirect("/a/old", "new", status=301)
    server.route("/a/new", b"moved here")
    result = await guarded.fetch(req(public(server, "/a/old")))
    assert result.body == b"moved here"
    assert result.url == public(server, "/a/new")


async def test_at_most_five_redirects(server: LocalServer, guarded: HttpFetcher) -> None:
    """Five redirects are followed; a sixth is refused and its target never fetched."""
    for hop in range(6):
        server.redirect(f"/five{hop}", f"/five{hop + 1}")
        server.redirect(f"/six{hop}", f"/six{hop + 1}")
    server.route("/five5", b"five hops")
    server.route("/six6", b"too far")
    assert (await guarded.fetch(req(public(server, "/five0")))).body == b"five hops"
    with pytest.raises(BlockedURL, match="redirects"):
        await guarded.fetch(req(public(server, "/six0")))
    assert server.hits["/six5"] == 1
    assert server.hits["/six6"] == 0


async def test_redirect_to_a_file_is_refused_even_for_the_operator(
    server: LocalServer, operator: HttpFetcher
) -> None:
    """A redirect may only lead to http(s), whoever asked."""
    server.redirect("/start", "file:///etc/passwd")
    with pytest.raises(BlockedURL):
        await operator.fetch(req(server.url("/start"), trusted=True))


# --- size caps -----------------------------------------------------------------------------


async def test_body_over_the_cap_is_refused(server: LocalServer, guarded: HttpFetcher) -> None:
    """A plain body larger than max_bytes raises TooLarge."""
    server.route("/big", b"x" * (2 * MiB))
    with pytest.raises(TooLarge):
        await guarded.fetch(req(public(server, "/big"), max_bytes=MiB))


async def test_cap_counts_bytes_after_decompression(
    server: LocalServer, guarded: HttpFetcher
) -> None:
    """A small gzip body that inflates past the cap raises TooLarge."""
    server.route("/feed", b"a" * (2 * MiB), compress=True)
    with pytest.raises(TooLarge):
        await guarded.fetch(req(public(server, "/feed"), max_bytes=MiB))


async def test_gzip_bomb_is_stopped_without_inflating_it(
    server: LocalServer, guarded: HttpFetcher
) -> None:
    """A 64 GiB gzip bomb raises TooLarge while memory stays near the 1 MiB cap."""
    server.route("/warm", b"ok")
    await guarded.fetch(req(public(server, "/warm")))  # pool and TLS setup outside the count
    bomb = server.gzip_bomb("/bomb.xml", 64 << 30)
    tracemalloc.start()
    try:
        with pytest.raises(TooLarge):
            await guarded.fetch(req(public(server, "/bomb.xml"), max_bytes=MiB))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert bomb.endswith("/bomb.xml")
    # Inflating each 64 KiB network read whole (httpx's own decoder) peaks near 140 MiB here.
    assert peak < 4 * MiB


async def test_compressed_body_under_the_cap_is_inflated_whole(
    server: LocalServer, guarded: HttpFetcher
) -> None:
    """A multi-block gzip stream under the cap is decoded exactly."""
    size = 3 * MiB + 5
    server.gzip_bomb("/zeros", size)
    result = await guarded.fetch(req(public(server, "/zeros"), max_bytes=4 * MiB))
    assert result.body == bytes(size)


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS])
async def test_deflate_with_and_without_zlib_header(
    server: LocalServer, guarded: HttpFetcher, wbits: int
) -> None:
    """Content-Encoding: deflate is read both as zlib and as raw deflate."""
    text = b"<rss>" + b"news " * 1000 + b"</rss>"
    deflater = zlib.compressobj(6, zlib.DEFLATED, wbits)
    body = deflater.compress(text) + deflater.flush()
    server.route("/feed", body, headers={"Content-Encoding": "deflate"})
    assert (await guarded.fetch(req(public(server, "/feed")))).body == text


async def test_concatenated_gzip_members_are_all_read(
    server: LocalServer, guarded: HttpFetcher
) -> None:
    """Each gzip member is decoded in turn; junk after the last one is ignored."""
    body = gzip.compress(b"<rss>") + gzip.compress(b"</rss>") + b"\r\n"
    server.route("/feed", body, headers={"Content-Encoding": "gzip"})
    assert (await guarded.fetch(req(public(server, "/feed")))).body == b"<rss></rss>"


async def test_unrequested_encoding_is_refused(server: LocalServer, guarded: HttpFetcher) -> None:
    """A coding we did not ask for (and cannot cap) is a FetchError."""
    server.route("/feed", b"\x00\x01", headers={"Content-Encoding": "br"})
    with pytest.raises(FetchError, match="Content-Encoding"):
        await guarded.fetch(req(public(server, "/feed")))


# --- time ------------------------------------------------------------------------------------


async def test_dripping_server_hits_the_total_deadline(server: LocalServer) -> None:
    """A server sending a byte at a time is cut off by the total deadline."""
    server.drip("/slow", interval=0.02)
    async with HttpFetcher(
        total_timeout=0.5, resolver=fake_resolver(DNS), dial=dial_to(server)
    ) as fetcher:
        with pytest.raises(FetchTimeout):
            await fetcher.fetch(req(public(server, "/slow")))
    assert server.hits["/slow"] == 1


async def test_resolver_that_never_answers_hits_the_connect_timeout() -> None:
    """DNS counts against the connect timeout."""

    async def silent(host: str, port: int) -> list[str]:
        await asyncio.Event().wait()  # never set: this resolver never answers
        return []

    async with HttpFetcher(connect_timeout=0.2, resolver=silent) as fetcher:
        with pytest.raises(FetchTimeout):
            await fetcher.fetch(req("http://slow-dns.test/feed"))


# --- local files -----------------------------------------------------------------------------


@pytest.fixture
def watch_opens() -> Iterator[set[str]]:
    """Record every open() of the paths the test adds to the yielded set."""
    _OPENED.clear()
    yield _WATCHED
    _WATCHED.clear()


@pytest.mark.parametrize("as_url", [True, False])
async def test_untrusted_file_request_never_touches_the_file_system(
    tmp_path: Path, watch_opens: set[str], as_url: bool
) -> None:
    """A chat user's path or file:// URL is refused before any file is opened."""
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0\n")
    watch_opens.add(str(secret))
    url = secret.as_uri() if as_url else str(secret)
    async with HttpFetcher(allow_private_hosts=True) as fetcher:
        with pytest.raises(BlockedURL):
            await fetcher.fetch(req(url, trusted=False))
        with pytest.raises(BlockedURL):
            await fetcher.fetch(req("file:///etc/passwd", trusted=False))
    assert _OPENED == []


async def test_trusted_local_file_is_read_with_validators(tmp_path: Path) -> None:
    """The operator's file is read; its ETag then answers not_modified."""
    feed = tmp_path / "world.xml"
    feed.write_bytes(b"<rss>local</rss>")
    async with HttpFetcher() as fetcher:
        first = await fetcher.fetch(req(str(feed), trusted=True))
        again = await fetcher.fetch(req(feed.as_uri(), trusted=True, etag=first.etag))
    assert first.body == b"<rss>local</rss>"
    assert first.content_type.endswith("xml")
    assert again.not_modified and again.body == b""


async def test_trusted_local_file_over_the_cap_is_refused(tmp_path: Path) -> None:
    """The byte cap applies to local files too."""
    big = tmp_path / "big.xml"
    big.write_bytes(b"x" * 2048)
    async with HttpFetcher() as fetcher:
        with pytest.raises(TooLarge):
            await fetcher.fetch(req(str(big), max_bytes=1024, trusted=True))


async def test_missing_local_file_is_a_fetch_error(tmp_path: Path) -> None:
    """An unreadable file is a FetchError naming the problem."""
    async with HttpFetcher() as fetcher:
        with pytest.raises(FetchError, match="cannot read"):
            await fetcher.fetch(req(str(tmp_path / "absent.xml"), trusted=True))


# --- conditional GET and statuses --------------------------------------------------------------


async def test_conditional_get_returns_not_modified(
    server: LocalServer, guarded: HttpFetcher
) -> None:
    """200 gives the validators; sending them back gets a 304 with an empty body."""
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    server.route("/feed", b"<rss/>", etag='"v1"', last_modified=stamp)
    first = await guarded.fetch(req(public(server, "/feed")))
    second = await guarded.fetch(
        req(public(server, "/feed"), etag=first.etag, last_modified=first.last_modified)
    )
    assert (first.body, first.etag, first.last_modified) == (b"<rss/>", '"v1"', stamp)
    assert second.not_modified and second.body == b""
    assert (second.etag, second.last_modified) == ('"v1"', stamp)
    sent = server.requests[-1].headers
    assert (sent["If-None-Match"], sent["If-Modified-Since"]) == ('"v1"', stamp)


async def test_error_status_carries_retry_after_seconds(
    server: LocalServer, guarded: HttpFetcher
) -> None:
    """A 503 with Retry-After: 120 raises HTTPStatusError(status=503, retry_after=120)."""
    server.route("/busy", b"", status=503, headers={"Retry-After": "120"})
    with pytest.raises(HTTPStatusError) as caught:
        await guarded.fetch(req(public(server, "/busy")))
    assert (caught.value.status, caught.value.retry_after) == (503, 120.0)


async def test_error_status_carries_retry_after_date(server: LocalServer) -> None:
    """A 429 with an HTTP-date Retry-After is measured from the fetcher's clock."""
    now = 1_700_000_000.0
    server.route(
        "/slow", b"", status=429, headers={"Retry-After": formatdate(now + 90, usegmt=True)}
    )
    async with HttpFetcher(resolver=fake_resolver(DNS), dial=dial_to(server), now=lambda: now) as f:
        with pytest.raises(HTTPStatusError) as caught:
            await f.fetch(req(public(server, "/slow")))
    assert (caught.value.status, caught.value.retry_after) == (429, 90.0)


async def test_not_found_has_no_retry_after(server: LocalServer, guarded: HttpFetcher) -> None:
    """A 404 is an HTTPStatusError without retry_after."""
    with pytest.raises(HTTPStatusError) as caught:
        await guarded.fetch(req(public(server, "/missing")))
    assert (caught.value.status, caught.value.retry_after) == (404, None)


async def test_errors_never_carry_url_secrets(server: LocalServer, guarded: HttpFetcher) -> None:
    """Query strings and user info stay out of error text (it reaches logs and chats)."""
    server.route("/feed", b"", status=500)
    for url in [
        public(server, "/feed?token=SECRET"),
        server.url("/feed?token=SECRET").replace("://", "://me:SECRET@"),
    ]:
        with pytest.raises(FetchError) as caught:
            await guarded.fetch(req(url))
        assert "SECRET" not in str(caught.value)


async def test_connection_refused_is_a_fetch_error() -> None:
    """A closed port is a plain FetchError."""
    async with LocalServer() as gone:
        url = gone.url("/feed")
    async with HttpFetcher(allow_private_hosts=True) as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch(req(url, trusted=True))
    assert type(caught.value) is FetchError


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "gopher://example.org/"])
async def test_other_schemes_are_refused(guarded: HttpFetcher, url: str) -> None:
    """Only http and https are fetched."""
    with pytest.raises(BlockedURL):
        await guarded.fetch(req(url, trusted=True))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        ("Tue, 14 Nov 2023 22:14:20 GMT", 0.0),  # 0 s after now
        ("Tue, 14 Nov 2023 22:15:20 GMT", 60.0),
        ("Tue, 14 Nov 2023 22:00:00 GMT", 0.0),  # in the past: no wait
        ("-5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    """Retry-After reads as seconds or an HTTP date; anything else is None."""
    assert parse_retry_after(value, now=1_700_000_060.0) == expected


# --- TLS, pinned -------------------------------------------------------------------------------


@pytest.fixture
def tls_pair(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server, client) TLS contexts for a self-signed certificate for public.test."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=public.test"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-addext", "subjectAltName=DNS:public.test"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    return served, ssl.create_default_context(cafile=str(cert))


async def test_https_keeps_sni_and_certificate_name_while_pinned(
    tls_pair: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    """Dialing the vetted IP still sends SNI public.test and verifies its certificate."""
    served, trusted = tls_pair
    async with LocalServer(ssl_context=served) as server:
        server.route("/feed", b"secure")
        async with HttpFetcher(
            resolver=fake_resolver(DNS), dial=dial_to(server), ssl_context=trusted
        ) as fetcher:
            result = await fetcher.fetch(req(server.url("/feed", host="public.test")))
    assert result.body == b"secure"
    assert server.server_names == ["public.test"]
    assert server.requests[-1].headers["Host"] == f"public.test:{server.port}"


async def test_https_with_an_untrusted_certificate_is_refused(
    tls_pair: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    """With the default trust (certifi's roots), a self-signed certificate fails the
    handshake: a FetchError naming the verification, and no request is sent."""
    served, _ = tls_pair
    async with LocalServer(ssl_context=served) as server:
        server.route("/feed", b"secure")
        async with HttpFetcher(resolver=fake_resolver(DNS), dial=dial_to(server)) as fetcher:
            with pytest.raises(FetchError) as caught:
                await fetcher.fetch(req(server.url("/feed", host="public.test")))
    assert "ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED]" in caught.value.reason
    assert server.hits.total() == 0


# --- the request on the wire -------------------------------------------------------------------


async def test_request_headers_name_newsbrief_and_the_codings_it_caps(
    server: LocalServer, guarded: HttpFetcher
) -> None:
    """A fetch sends the user agent, the feed types it prefers and only the codings it
    inflates under the cap, as httpx did."""
    server.route("/feed", b"<rss/>")
    await guarded.fetch(req(public(server, "/feed")))
    sent = server.requests[-1].headers
    assert sent["User-Agent"] == DEFAULT_USER_AGENT
    assert sent["Accept"].startswith("application/rss+xml, application/atom+xml")
    assert (sent["Accept-Encoding"], sent["Connection"]) == ("gzip, deflate", "keep-alive")


async def test_user_info_in_a_feed_url_is_sent_as_basic_auth(
    server: LocalServer, guarded: HttpFetcher
) -> None:
    """``https://user:pass@host/feed`` logs in with HTTP Basic (escapes decoded), as before."""
    server.route("/private", b"<rss/>")
    url = public(server, "/private").replace("://", "://me:p%40ss@")
    assert (await guarded.fetch(req(url))).body == b"<rss/>"
    assert server.requests[-1].headers["Authorization"] == "Basic bWU6cEBzcw=="  # me:p@ss


async def test_a_chunked_body_arrives_whole(server: LocalServer, guarded: HttpFetcher) -> None:
    """A body sent in chunks (no Content-Length) is read to its last chunk."""

    async def chunked(request: web.BaseRequest) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for piece in (b"<rss>", b"news " * 20_000, b"</rss>"):
            await response.write(piece)
        await response.write_eof()
        return response

    server.handle("/chunked", chunked)
    result = await guarded.fetch(req(public(server, "/chunked")))
    assert result.body == b"<rss>" + b"news " * 20_000 + b"</rss>"


async def test_an_early_hints_answer_is_skipped() -> None:
    """A 103 before the real answer is passed over, as httpx did."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n<rss/>")
        await writer.drain()
        writer.close()

    raw = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = raw.sockets[0].getsockname()[1]
    async with raw, HttpFetcher(allow_private_hosts=True) as fetcher:
        result = await fetcher.fetch(req(f"http://127.0.0.1:{port}/feed", trusted=True))
    assert result.body == b"<rss/>"


async def test_a_redirect_lands_on_the_url_httpx_gave(
    server: LocalServer, guarded: HttpFetcher
) -> None:
    """Dot segments and characters to escape in a Location give the same final URL as
    before (it is the base of the feed's relative links)."""
    server.redirect("/start", "/a/./b/../c?q=é")
    server.route("/a/c", b"<rss/>")
    result = await guarded.fetch(req(public(server, "/start")))
    assert result.url == public(server, "/a/c?q=%C3%A9")


# --- connections kept for the next request ---------------------------------------------------


class KeepAliveServer:
    """A raw HTTP/1.1 server answering ``<rss/>`` to every request, keeping connections
    open; it counts connections and notes each one the client closes."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests_per_connection: list[int] = []
        self.client_closed = asyncio.Event()
        self.close_after_answer = False  # drop each connection once it has answered
        self.answers_per_connection: int | None = None  # then drop it on the next request
        self.hang_instead = False  # ... or, instead of dropping it, never answer

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer requests on one connection until the client closes it."""
        self.connections += 1
        self.requests_per_connection.append(0)
        index = len(self.requests_per_connection) - 1
        while await _request_head(reader):
            self.requests_per_connection[index] += 1
            limit = self.answers_per_connection
            if limit is not None and self.requests_per_connection[index] > limit:
                if self.hang_instead:
                    await reader.read()  # until the client gives up and closes
                    self.client_closed.set()
                writer.close()  # the request arrived as the server was closing: no answer
                return
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n<rss/>")
            await writer.drain()
            if self.close_after_answer:
                break  # the server drops it, as one whose idle timeout passed would
        writer.close()
        if not self.close_after_answer:
            self.client_closed.set()


async def _request_head(reader: asyncio.StreamReader) -> bool:
    """Read one request head; False when the client closed the connection."""
    try:
        await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return False
    return True


@pytest.fixture
async def keep_alive() -> AsyncIterator[tuple[KeepAliveServer, int]]:
    """A keep-alive server and its port."""
    served = KeepAliveServer()
    raw = await asyncio.start_server(served.serve, "127.0.0.1", 0)
    async with raw:
        yield served, raw.sockets[0].getsockname()[1]


def _local(port: int, path: str = "/feed") -> FetchRequest:
    return req(f"http://127.0.0.1:{port}{path}", trusted=True)


async def test_one_connection_serves_a_hosts_requests_in_turn(
    keep_alive: tuple[KeepAliveServer, int],
) -> None:
    """Three fetches from one host, one after the other, share one connection; closing the
    fetcher closes it."""
    served, port = keep_alive
    async with HttpFetcher(allow_private_hosts=True) as fetcher:
        bodies = [(await fetcher.fetch(_local(port, f"/{n}"))).body for n in range(3)]
    await served.client_closed.wait()
    assert bodies == [b"<rss/>"] * 3
    assert served.requests_per_connection == [3]


async def test_a_kept_connection_never_serves_another_policy(
    keep_alive: tuple[KeepAliveServer, int],
) -> None:
    """A connection opened for the operator's request is not reused for a chat user's
    request to the same host and port: that one is dialed (and vetted) anew."""
    served, port = keep_alive
    url = f"http://public.test:{port}/feed"

    def dial(address: IPv4Address | IPv6Address, port: int) -> tuple[str, int]:
        return "127.0.0.1", port

    async with HttpFetcher(
        allow_private_hosts=True, resolver=fake_resolver(DNS), dial=dial
    ) as fetcher:
        await fetcher.fetch(req(url, trusted=True))
        await fetcher.fetch(req(url, trusted=False))
        await fetcher.fetch(req(url, trusted=True))
    assert served.requests_per_connection == [2, 1]


async def test_a_connection_is_kept_five_seconds_at_most(
    keep_alive: tuple[KeepAliveServer, int],
) -> None:
    """Within 5 s of its last answer a connection is reused; after that a new one is made."""
    served, port = keep_alive
    clock = [1_700_000_000.0]
    async with HttpFetcher(allow_private_hosts=True, monotonic=lambda: clock[0]) as fetcher:
        await fetcher.fetch(_local(port))
        clock[0] += 4.5
        await fetcher.fetch(_local(port))
        clock[0] += 5.5
        await fetcher.fetch(_local(port))
    assert served.requests_per_connection == [2, 1]


async def test_a_connection_the_server_dropped_is_replaced(
    keep_alive: tuple[KeepAliveServer, int],
) -> None:
    """When the server closes a kept connection, the next fetch still succeeds, on a new
    connection (the request is sent again if the old one failed under it)."""
    served, port = keep_alive
    served.close_after_answer = True
    async with HttpFetcher(allow_private_hosts=True) as fetcher:
        bodies = [(await fetcher.fetch(_local(port))).body for _ in range(3)]
    assert bodies == [b"<rss/>"] * 3
    assert served.requests_per_connection == [1, 1, 1]


async def test_a_request_lost_with_a_kept_connection_is_sent_again(
    keep_alive: tuple[KeepAliveServer, int],
) -> None:
    """A kept connection that closes without answering (the server timed it out as the
    request went) costs nothing: the GET is sent once more, on a new connection."""
    served, port = keep_alive
    served.answers_per_connection = 1
    async with HttpFetcher(allow_private_hosts=True) as fetcher:
        bodies = [(await fetcher.fetch(_local(port))).body for _ in range(3)]
    assert bodies == [b"<rss/>"] * 3
    assert served.requests_per_connection == [2, 2, 1]


async def test_a_fetch_that_times_out_on_a_kept_connection_closes_it(
    keep_alive: tuple[KeepAliveServer, int],
) -> None:
    """A kept connection whose answer never comes is closed when the deadline ends the
    fetch, not left open."""
    served, port = keep_alive
    served.answers_per_connection, served.hang_instead = 1, True
    async with HttpFetcher(allow_private_hosts=True, total_timeout=0.3) as fetcher:
        await fetcher.fetch(_local(port))
        with pytest.raises(FetchTimeout):
            await fetcher.fetch(_local(port))
        async with asyncio.timeout(10):  # a guard only: the close is awaited, not slept for
            await served.client_closed.wait()
    assert served.requests_per_connection == [2]


async def test_a_fresh_connection_closed_without_an_answer_is_not_retried(
    keep_alive: tuple[KeepAliveServer, int],
) -> None:
    """Only a kept connection is retried: on a new one, no answer is a FetchError."""
    served, port = keep_alive
    served.answers_per_connection = 0
    async with HttpFetcher(allow_private_hosts=True) as fetcher:
        with pytest.raises(FetchError, match="Server disconnected without sending a response"):
            await fetcher.fetch(_local(port))
    assert served.requests_per_connection == [1]


# --- the real corpus through the local server ------------------------------------------------


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not present")
async def test_corpus_feed_and_gzipped_page_come_through_whole(
    server: LocalServer, operator: HttpFetcher
) -> None:
    """A real feed arrives byte for byte; a .html.gz page arrives decoded."""
    server.serve_directory("/feeds", CORPUS / "feeds")
    server.serve_directory("/pages", CORPUS / "pages")
    feed = sorted((CORPUS / "feeds").glob("*.xml"))[0]
    page = sorted((CORPUS / "pages").glob("*.html.gz"))[0]
    got_feed = await operator.fetch(req(server.url(f"/feeds/{feed.name}"), 10 * MiB, trusted=True))
    got_page = await operator.fetch(req(server.url(f"/pages/{page.name}"), 5 * MiB, trusted=True))
    assert got_feed.body == feed.read_bytes()
    assert got_page.body == gzip.decompress(page.read_bytes())
    assert got_page.content_type.startswith("text/html")


# --- the fault server: every way a server misbehaves ----------------------------------------


@pytest.mark.parametrize(
    ("fault", "error", "reason"),
    [
        (hang(), FetchTimeout, "no complete answer within 0.5 s"),
        (slow_drip(0.01), FetchTimeout, "no complete answer within 0.5 s"),
        (reset(), FetchError, "the connection was closed or reset"),
        (bomb(), TooLarge, "passed 1048576 bytes"),
        (wrong_length(b"<rss>", 10_000), FetchError, "peer closed connection"),
        (redirect_loop(), BlockedURL, "more than 5 redirects"),
        (rate_limited("7"), HTTPStatusError, "HTTP 429"),
        (server_error(503), HTTPStatusError, "HTTP 503"),
    ],
)
async def test_every_server_fault_is_one_typed_error_within_the_deadline(
    server: LocalServer, fault: Fault, error: type[FetchError], reason: str
) -> None:
    """Hang, drip, reset, bomb, short body, redirect loop, 429 and 5xx: each ends the
    fetch within its total deadline as one error of the fetcher's contract, with a reason
    an operator can read."""
    url = server.faulty("/f", [fault])
    async with HttpFetcher(
        total_timeout=0.5, resolver=fake_resolver(DNS), dial=dial_to(server)
    ) as fetcher:
        with pytest.raises(error) as raised:
            await fetcher.fetch(req(public(server, "/f")))
    assert reason in raised.value.reason
    assert url.endswith("/f") and server.fault_hits["/f"] >= 1


async def test_a_5xx_burst_then_the_feed_again(server: LocalServer, guarded: HttpFetcher) -> None:
    """A burst of 500s fails each fetch on its own (no hidden retries); the next fetch
    after the burst gets the body, and a 429's Retry-After reaches the caller."""
    server.faulty("/b", [server_error(), server_error(), rate_limited("30")], then="<rss/>")
    outcomes = []
    for _ in range(4):
        try:
            outcomes.append((await guarded.fetch(req(public(server, "/b")))).body)
        except HTTPStatusError as e:
            outcomes.append((e.status, e.retry_after))
    assert outcomes == [(500, None), (500, None), (429, 30.0), b"<rss/>"]


# --- what a server sends must not outlive its answer -------------------------------------------

_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n<rss/>"

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _head(reader: asyncio.StreamReader) -> bytes | None:
    """One request head, or None when the client closed the connection."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None


@asynccontextmanager
async def _raw_server(serve: Serve) -> AsyncIterator[int]:
    """A raw loopback server running ``serve`` on each connection; yields its port. On
    exit it closes every connection and awaits every handler, so none outlives the test."""
    handlers: list[asyncio.Future[None]] = []
    writers: list[asyncio.StreamWriter] = []

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        try:
            await serve(reader, writer)
        finally:
            writer.close()

    def start(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.ensure_future(tracked(reader, writer)))

    raw = await asyncio.start_server(start, "127.0.0.1", 0)
    try:
        async with raw:
            yield raw.sockets[0].getsockname()[1]
    finally:
        for writer in writers:
            writer.close()  # a handler waiting for a request sees the end and returns
        await asyncio.gather(*handlers, return_exceptions=True)


class Script:
    """A raw server whose first connection answers its first request with ``first`` (and
    then ``after_first``, if any, once the answer is out), then serves ``<rss/>``: every
    other request, on any connection, gets ``<rss/>``. It records every request head."""

    def __init__(self, first: bytes, after_first: bytes = b"", *, close: bool = False) -> None:
        self.first, self.after_first, self.close = first, after_first, close
        self.heads: list[bytes] = []
        self.connections = 0
        self.pushed = asyncio.Event()  # set once ``after_first`` is sent

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer one connection's requests as scripted."""
        self.connections += 1
        first_connection = self.connections == 1
        while (head := await _head(reader)) is not None:
            self.heads.append(head)
            if first_connection and len(self.heads) == 1:
                await self._first(writer)
                if self.close:
                    break
            else:
                writer.write(_OK)
                await writer.drain()
        writer.close()

    async def _first(self, writer: asyncio.StreamWriter) -> None:
        writer.write(self.first)
        await writer.drain()
        if self.after_first:
            writer.write(self.after_first)
            await writer.drain()
        self.pushed.set()


@pytest.mark.parametrize(
    ("etag", "last_modified"),
    [
        ('"café"', None),
        ('"x" ', None),  # a trailing space h11 refuses
        ('"x"\r\nX-Evil: 1', None),
        (None, "Mon, 01 Jan 2024 00:00:00 GMT\u00a0"),
        (None, "\tMon, 01 Jan 2024 00:00:00 GMT"),
    ],
)
async def test_a_validator_that_cannot_be_sent_gives_a_plain_get(
    etag: str | None, last_modified: str | None
) -> None:
    """A stored ETag or Last-Modified that is not a valid ASCII header value is left out:
    the fetch is a plain GET that succeeds, and nothing of the value reaches the wire."""
    script = Script(_OK)
    async with _raw_server(script.serve) as port, HttpFetcher(allow_private_hosts=True) as f:
        url = f"http://127.0.0.1:{port}/feed"
        result = await f.fetch(req(url, trusted=True, etag=etag, last_modified=last_modified))
    assert result.body == b"<rss/>"
    sent = script.heads[-1].lower()
    assert b"if-none-match" not in sent and b"if-modified-since" not in sent
    assert b"x-evil" not in sent


@pytest.mark.parametrize("encoded", ['"café"'.encode(), '"café"'.encode("latin-1")])
async def test_a_non_ascii_etag_from_the_server_never_breaks_the_next_fetch(
    encoded: bytes,
) -> None:
    """A server's non-ASCII ETag (UTF-8 or Latin-1) is read and kept; sending it back
    gives a plain GET that succeeds, not an error outside the fetcher's contract."""
    answer = b"HTTP/1.1 200 OK\r\nETag: " + encoded + b"\r\nContent-Length: 6\r\n\r\n<rss/>"
    script = Script(answer)
    async with _raw_server(script.serve) as port, HttpFetcher(allow_private_hosts=True) as f:
        first = await f.fetch(_local(port))
        second = await f.fetch(req(f"http://127.0.0.1:{port}/feed", trusted=True, etag=first.etag))
    assert first.etag is not None and "caf" in first.etag
    assert second.body == b"<rss/>" and not second.not_modified
    assert b"if-none-match" not in script.heads[-1].lower()


async def test_a_non_ascii_etag_fails_no_ingest_pass(
    store: SqliteStore, clock: ManualClock
) -> None:
    """Through the ingestor, a feed whose server sends a non-ASCII ETag is fetched fine on
    the first pass and on the next (which used to end the whole pass)."""
    item = b"<item><guid>a</guid><title>A</title><link>https://news.test/a</link></item>"
    feed = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>%s</channel></rss>'
    body = feed % item

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await _head(reader) is not None:
            writer.write(b'HTTP/1.1 200 OK\r\nETag: "caf\xc3\xa9"\r\n')
            writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
        writer.close()

    async with _raw_server(serve) as port, HttpFetcher(allow_private_hosts=True) as fetcher:
        url = f"http://127.0.0.1:{port}/feed.xml"
        await store.feeds.upsert(
            url, name="", origin=FeedOrigin.CONFIG, every=600.0, backfill=0, now=0.0
        )
        passes = [await Ingestor(store, fetcher, clock).run(only_due=False) for _ in range(2)]
    assert [(p.fetched, p.failed) for p in passes] == [(1, 0), (1, 0)]
    [stored] = await store.feeds.active()
    assert stored.last_error is None


async def test_a_user_agent_that_cannot_be_sent_is_a_fetch_error() -> None:
    """A non-ASCII user agent fails each fetch as a FetchError (LocalProtocolError)."""
    script = Script(_OK)
    async with (
        _raw_server(script.serve) as port,
        HttpFetcher(allow_private_hosts=True, user_agent="newsbrief/é") as fetcher,
    ):
        with pytest.raises(FetchError, match="LocalProtocolError") as caught:
            await fetcher.fetch(_local(port))
    assert type(caught.value) is FetchError


async def test_connections_are_kept_where_select_has_no_poll(
    keep_alive: tuple[KeepAliveServer, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where ``select.poll`` does not exist (Windows), a kept connection is checked with
    ``select.select`` and still serves the next fetch."""
    import select

    monkeypatch.delattr(select, "poll")
    served, port = keep_alive
    async with HttpFetcher(allow_private_hosts=True) as fetcher:
        bodies = [(await fetcher.fetch(_local(port, f"/{n}"))).body for n in range(2)]
    assert (bodies, served.requests_per_connection) == ([b"<rss/>"] * 2, [2])


async def test_a_redirects_connection_is_not_used_for_the_next_hop() -> None:
    """A redirect's connection is closed, not reused for the hop that follows at once: a
    body the server sends after a 301 it said was empty (here, as the next request comes
    in on that connection) is never read as the next answer."""
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(0)
        while await _head(reader) is not None:
            connections[-1] += 1
            if connections == [1]:
                writer.write(b"HTTP/1.1 301 Moved\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n")
            else:  # on a reused connection, a stray body first, then the answer
                stray = b"<a href='/b'>moved</a>" if connections[-1] > 1 else b""
                writer.write(stray + _OK)
            await writer.drain()

    async with _raw_server(serve) as port, HttpFetcher(allow_private_hosts=True) as f:
        result = await f.fetch(_local(port, "/a"))
    assert (result.body, result.url.endswith("/b")) == (b"<rss/>", True)
    assert connections == [1, 1]


async def test_bytes_past_an_answers_end_are_never_the_next_answer() -> None:
    """An answer followed, in the same write, by bytes past its Content-Length: the next
    fetch gets its own answer on a new connection, not those bytes."""
    smuggled = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!"
    script = Script(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi" + smuggled)
    async with _raw_server(script.serve) as port, HttpFetcher(allow_private_hosts=True) as f:
        bodies = [(await f.fetch(_local(port))).body for _ in range(2)]
    assert bodies == [b"hi", b"<rss/>"]
    assert script.connections == 2


@pytest.mark.parametrize(
    ("pushed", "close"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!", False),
        (b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", True),
    ],
)
async def test_bytes_sent_on_an_idle_connection_are_never_the_next_answer(
    pushed: bytes, close: bool
) -> None:
    """A server that sends something on a kept connection while it is idle (an answer
    nobody asked for, or a 408 on its idle timeout) has that connection dropped: the next
    fetch gets its own answer on a new connection."""
    script = Script(_OK, pushed, close=close)
    async with _raw_server(script.serve) as port, HttpFetcher(allow_private_hosts=True) as f:
        first = await f.fetch(_local(port))
        await script.pushed.wait()
        second = await f.fetch(_local(port))
    assert (first.body, second.body) == (b"<rss/>", b"<rss/>")
    assert script.connections == 2


@pytest.mark.parametrize(
    "broken",
    [
        b"HTTP/1.1 200 OK\r\nContent-Le",  # a partial head, then the end
        b"HTTP/1.1 abc\r\n\r\n",  # a garbage status line
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",  # a 103, then the end
        b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
    ],
)
async def test_an_answer_that_began_on_a_kept_connection_is_not_sent_again(
    broken: bytes,
) -> None:
    """Only a kept connection that ends before any byte of an answer is retried: an
    answer that began and then broke is reported (RemoteProtocolError), not hidden by a
    second request on a new connection."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads = 0
        while await _head(reader) is not None:
            heads += 1
            writer.write(_OK if heads == 1 else broken)
            await writer.drain()
            if heads > 1:
                break
        writer.close()
        connections.append(heads)

    connections: list[int] = []
    async with _raw_server(serve) as port, HttpFetcher(allow_private_hosts=True) as fetcher:
        await fetcher.fetch(_local(port))
        with pytest.raises(FetchError, match="RemoteProtocolError"):
            await fetcher.fetch(_local(port))
    assert connections == [2]


# --- TLS connections are closed at once ----------------------------------------------------------


class MuteTLSServer:
    """A TLS server (TLS spoken by hand over a memory BIO) that answers one request with
    ``answer`` and then never reads TLS again, so it never answers the client's
    close_notify; ``ended`` is set when the client's TCP connection ends."""

    def __init__(self, context: ssl.SSLContext, answer: bytes) -> None:
        self._context = context
        self._answer = answer
        self.ended = asyncio.Event()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Shake hands, read a request head, answer it, then wait for the TCP end."""
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self._context.wrap_bio(incoming, outgoing, server_side=True)
        try:
            await self._pump(reader, writer, incoming, outgoing, tls.do_handshake)
            request = b""
            while b"\r\n\r\n" not in request:
                request += await self._pump(reader, writer, incoming, outgoing, tls.read)
            tls.write(self._answer)
            writer.write(outgoing.read())
            await writer.drain()
            while await reader.read(64 * 1024):
                pass  # the client's close_notify arrives and is never answered
        except (ConnectionError, ssl.SSLError):
            pass
        self.ended.set()
        writer.close()

    @staticmethod
    async def _pump(
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        step: Callable[[], Any],
    ) -> Any:
        while True:
            try:
                return step()
            except ssl.SSLWantReadError:
                writer.write(outgoing.read())
                await writer.drain()
                data = await reader.read(64 * 1024)
                if not data:
                    raise ConnectionError("the client left") from None
                incoming.write(data)


async def test_a_discarded_tls_connection_is_closed_at_once(
    tls_pair: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    """A TLS connection dropped after a refused answer (too large) is closed at once, not
    held open waiting for a close_notify the server never sends."""
    served, trusted = tls_pair
    big = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 2000
    mute = MuteTLSServer(served, big)
    async with _raw_server(mute.serve) as port:

        def dial(address: IPv4Address | IPv6Address, dialed: int) -> tuple[str, int]:
            return "127.0.0.1", port

        fetcher = HttpFetcher(resolver=fake_resolver(DNS), dial=dial, ssl_context=trusted)
        with pytest.raises(TooLarge):
            await fetcher.fetch(req("https://public.test/feed", max_bytes=100))
        async with asyncio.timeout(5):  # a guard only (a polite close would take 30 s)
            await mute.ended.wait()
        await fetcher.aclose()


async def test_a_kept_tls_connection_serves_the_next_request(
    tls_pair: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    """Over https, one handshake serves a host's requests in turn: TLS records the server
    sends around its answers are not taken for bytes after the answer."""
    served, trusted = tls_pair
    async with LocalServer(ssl_context=served) as server:
        server.route("/feed", b"secure" * 20_000)
        async with HttpFetcher(
            resolver=fake_resolver(DNS), dial=dial_to(server), ssl_context=trusted
        ) as fetcher:
            url = server.url("/feed", host="public.test")
            bodies = [(await fetcher.fetch(req(url))).body for _ in range(3)]
    assert bodies == [b"secure" * 20_000] * 3
    assert server.server_names == ["public.test"]
    assert server.hits["/feed"] == 3


# --- lesser guards -----------------------------------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "65536"])
async def test_a_port_out_of_range_is_a_malformed_link(guarded: HttpFetcher, port: str) -> None:
    """A port no socket can have is refused as a malformed link, not tried."""
    with pytest.raises(BlockedURL, match="the link is malformed"):
        await guarded.fetch(req(f"http://public.test:{port}/feed"))
