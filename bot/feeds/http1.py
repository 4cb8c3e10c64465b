"""HTTP/1.1 over asyncio streams, spoken with h11: the fetcher's wire.

:mod:`bot.feeds.fetch` decides what may be reached and which connection may be kept; this
module only carries GETs over a connection to an address it was given, and hands back the
status, the headers and the body in pieces. The
bytes on the wire are h11's (the protocol library httpcore uses), so parsing is the same as
httpx's was; the request and its headers are the ones httpx sent, and the error names in
messages (``ConnectError``, ``ReadError``, ``RemoteProtocolError``...) are httpx's, so a
feed's recorded failure reads as before.

URLs are read as httpx reads them (:func:`parse_url`, :func:`join_url`): the common form by a
short path proven equal to httpx's parser (``tests/bot/feeds/test_http1.py``), anything
else (IDNA hosts, user info, dot segments, characters to escape) by httpx's parser itself,
imported then and only then.
"""

from __future__ import annotations

import asyncio
import re
import select
import ssl
from base64 import b64encode
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address
from urllib.parse import urljoin

import h11

_READ = 256 * 1024  # bytes asked of the stream per read
_MAX_HEAD = 100 * 1024  # httpcore's limit on a response head

# The URLs httpx leaves as they are, but for the case of scheme and host and a default port.
_PLAIN = re.compile(
    r"(?P<scheme>[hH][tT][tT][pP][sS]?)://"
    r"(?P<host>[A-Za-z0-9_~-][A-Za-z0-9._~-]*)(?::(?P<port>[1-9][0-9]{0,4}))?"
    r"(?P<path>/[A-Za-z0-9!$%&'()*+,\-./:;=@\[\\\]^_|~]*)?"
    r"(?P<query>\?[A-Za-z0-9!$%&'()*+,\-./:;=?@\[\\\]^_`{|}~]*)?"
    r"(?P<fragment>#[A-Za-z0-9!#$%&'()*+,\-./:;=?@\[\\\]^_{|}~]*)?"
)
_RELATIVE = re.compile(  # the query: printable ASCII but for space, '"', "#", "<" and ">"
    r"[A-Za-z0-9!$%&'()*+,\-./:;=@\[\\\]^_|~]*(?:\?[!$-;=?-~]*)?"
)
_DOTTED_QUAD = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class WireError(Exception):
    """A transport or protocol failure, named as httpx named it (``kind``)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(detail)
        self.kind = kind


class StaleConnection(WireError):
    """A kept connection failed before any byte of the answer came back: the server had
    closed it (or did so as the request arrived), so the request may be sent again."""


class ConnectTimeoutError(WireError):
    """Resolving, connecting or the TLS handshake took longer than the connect timeout."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("ConnectTimeout", detail)


@dataclass(frozen=True)
class Target:
    """One hop's URL as it goes on the wire.

    Attributes:
        url: the URL as httpx writes it (what a fetch result names).
        scheme: ``http`` or ``https``.
        host: the host to resolve and to name in TLS (ASCII, IPv6 without brackets).
        port: the port to dial.
        authority: the Host header.
        path: the request target (path and query; ``/`` when empty).
        authorization: a Basic Authorization header from the URL's user info, if any.
    """

    url: str
    scheme: str
    host: str
    port: int
    authority: str
    path: str
    authorization: str | None = None


def parse_url(url: str) -> Target:
    """Read ``url`` as httpx does (scheme and host lower-cased, default port dropped).

    Raises:
        ValueError: httpx would refuse the URL (``httpx.InvalidURL``).
    """
    plain = _PLAIN.fullmatch(url)
    if plain is None or not _is_plain(plain):
        return _parse_with_httpx(url)
    scheme, host = plain["scheme"].lower(), plain["host"].lower()
    port = int(plain["port"]) if plain["port"] else _DEFAULT_PORTS[scheme]
    authority = host if port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path, query, fragment = plain["path"] or "", plain["query"] or "", plain["fragment"] or ""
    return Target(
        url=f"{scheme}://{authority}{path}{query}{fragment}",
        scheme=scheme,
        host=host,
        port=port,
        authority=authority,
        path=(path or "/") + query,
    )


def _is_plain(plain: re.Match[str]) -> bool:
    """Whether httpx would keep this URL but for case and a default port."""
    scheme, port, path = plain["scheme"].lower(), plain["port"], plain["path"] or ""
    if port and int(port) == _DEFAULT_PORTS[scheme]:
        return False  # "http://h:80" and "http://h:080": httpx drops or rewrites the port
    if _DOTTED_QUAD.fullmatch(plain["host"]) and not _is_ipv4(plain["host"]):
        return False  # httpx refuses it: let its parser say so
    return "." not in path or not any(seg in (".", "..") for seg in path.split("/"))


def _is_ipv4(host: str) -> bool:
    try:
        IPv4Address(host)
    except ValueError:
        return False
    return True


def _parse_with_httpx(url: str) -> Target:
    """Read ``url`` with httpx's own parser.

    Raises:
        ValueError: httpx refuses the URL, or it is not an absolute http(s) URL.
    """
    import httpx  # only for URLs off the common path: IDNA, user info, escapes, dot segments

    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as e:
        raise ValueError(str(e)) from e
    if parsed.scheme not in _DEFAULT_PORTS or not parsed.host:
        raise ValueError("not an absolute http(s) URL")
    user, password = parsed.username, parsed.password
    basic = b64encode(f"{user}:{password}".encode()).decode("ascii")
    return Target(
        url=str(parsed),
        scheme=parsed.scheme,
        host=parsed.raw_host.decode("ascii"),
        port=parsed.port or _DEFAULT_PORTS[parsed.scheme],
        authority=parsed.netloc.decode("ascii"),
        path=parsed.raw_path.decode("ascii"),
        authorization=f"Basic {basic}" if user or password else None,
    )


def join_url(base: str, location: str) -> str:
    """The absolute URL a redirect's ``location`` names from ``base``, as httpx's
    ``URL.join`` wrote it (read it with :func:`parse_url`).

    Raises:
        ValueError: httpx would refuse ``location``.
    """
    plain = _PLAIN.fullmatch(location)
    if plain is not None and _is_plain(plain):
        location = parse_url(location).url
    elif not _is_plain_relative(location):
        import httpx  # see _parse_with_httpx

        try:
            location = str(httpx.URL(location))
        except httpx.InvalidURL as e:
            raise ValueError(str(e)) from e
    return urljoin(base, location)


def _is_plain_relative(location: str) -> bool:
    """A path (and query) reference that httpx's parser would leave exactly as it is."""
    if location.startswith("//") or ":" in location.partition("/")[0]:
        return False  # a network-path reference, or a scheme (or a colon httpx refuses)
    return _RELATIVE.fullmatch(location) is not None


def client_tls() -> ssl.SSLContext:
    """Verified TLS with certifi's roots, as httpx made it (``trust_env`` off), HTTP/1.1 ALPN."""
    import certifi

    context = ssl.create_default_context(cafile=certifi.where())
    context.set_alpn_protocols(["http/1.1"])
    return context


@dataclass(frozen=True)
class Head:
    """A response's status and headers (names lower-case; repeated ones joined by ", ")."""

    status: int
    headers: dict[str, str]


class _CountingProtocol(asyncio.StreamReaderProtocol):
    """A stream protocol that counts the bytes it receives, so bytes that arrived while a
    connection was idle are noticed even once the loop has buffered them."""

    received = 0

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        super().data_received(data)


async def open_connection(
    host: str, port: int, *, tls: ssl.SSLContext | None, server_hostname: str | None
) -> Connection:
    """Connect to ``host:port`` (with TLS named ``server_hostname`` when ``tls`` is given),
    as :func:`asyncio.open_connection` does.

    Raises:
        ssl.SSLError: the TLS handshake failed (the certificate did not verify...).
        OSError: the connection failed.
        OverflowError: ``port`` is out of range.
    """
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(loop=loop)
    protocol = _CountingProtocol(reader, loop=loop)
    transport, _ = await loop.create_connection(
        lambda: protocol, host, port, ssl=tls, server_hostname=server_hostname
    )
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    return Connection(reader, writer, protocol)


class Connection:
    """An HTTP/1.1 connection: one GET at a time, its head, then its body in pieces.

    After an answer read to its end (:meth:`ready_for_next`), the next request may follow
    on it, as long as the server sent nothing more (:meth:`alive`).
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        protocol: _CountingProtocol,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._protocol = protocol
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEAD)
        self._taken = 0  # bytes read from the reader so far
        self._taken_before_answer = 0  # ... when the current request was sent

    def ready_for_next(self) -> bool:
        """Whether the answer is complete, nothing came after it and neither side asked to
        close: if so, the connection is made ready for the next request.

        An answer left unread (a redirect, a 304, an error status) counts as complete when
        its whole body has already arrived; nothing is read to find out.
        """
        while self._h11.their_state is h11.SEND_BODY:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError:
                return False
            if event is h11.NEED_DATA:
                return False
        if self._h11.our_state is not h11.DONE or self._h11.their_state is not h11.DONE:
            return False
        if self._h11.trailing_data != (b"", False) or not self.alive():
            return False  # bytes past the answer's end would be read as the next answer
        self._h11.start_next_cycle()
        return True

    def alive(self) -> bool:
        """Whether the server has neither closed the connection nor sent anything since
        its last answer (a 408 on its idle timeout, or an answer nobody asked for)."""
        if self._reader.at_eof() or self._writer.is_closing():
            return False
        if self._protocol.received != self._taken:
            return False  # the loop already buffered bytes we did not ask for
        try:
            return not _readable(self._writer.get_extra_info("socket"))
        except (OSError, ValueError):  # a socket that cannot be asked is not kept
            return False

    def close(self) -> None:
        """Close the connection at once.

        The transport is aborted, not closed politely: a polite TLS close waits for the
        server's close_notify, and a server that never sends one would hold the socket
        open for asyncio's 30 s shutdown timeout.
        """
        self._writer.transport.abort()

    async def request(self, target: Target, headers: list[tuple[str, str]]) -> Head:
        """Send ``GET target`` with ``headers`` (after Host) and read the response head.

        Raises:
            StaleConnection: writing failed, or the connection ended (or was reset) before
                any byte of an answer: the request may be sent again on a new connection.
            WireError: a header cannot be sent (``LocalProtocolError``), reading failed
                after the answer began, or the answer is not HTTP/1.x.
        """
        fields = [("Host", target.authority), *headers]
        try:
            request = h11.Request(method="GET", target=target.path, headers=fields)
            data = self._h11.send(request) + (self._h11.send(h11.EndOfMessage()) or b"")
        except (h11.LocalProtocolError, UnicodeEncodeError) as e:
            raise WireError("LocalProtocolError", str(e)) from e
        self._taken_before_answer = self._taken
        try:
            self._writer.write(data)
            await self._writer.drain()
        except OSError as e:
            raise StaleConnection("WriteError") from e
        while True:
            event = await self._next_event(head=True)
            if isinstance(event, h11.Response):
                return Head(event.status_code, _header_dict(event.headers))

    async def body(self) -> AsyncGenerator[bytes, None]:
        """The body as it arrives (still content-encoded).

        Raises:
            WireError: the connection failed or the body broke the protocol.
        """
        while True:
            event = await self._next_event(head=False)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return

    async def _next_event(self, *, head: bool) -> object:
        while True:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as e:
                raise WireError("RemoteProtocolError", str(e)) from e
            if event is not h11.NEED_DATA:
                return event
            data = await self._read()
            if not data and head and self._h11.their_state is h11.SEND_RESPONSE:
                detail = "Server disconnected without sending a response."
                raise self._lost("RemoteProtocolError", detail)
            self._h11.receive_data(data)

    async def _read(self) -> bytes:
        try:
            data = await self._reader.read(_READ)
        except OSError as e:
            raise self._lost("ReadError") from e  # httpx gave no detail: "closed or reset"
        self._taken += len(data)
        return data

    def _lost(self, kind: str, detail: str = "") -> WireError:
        """The error for a connection that ended: stale if no byte of the answer came."""
        if self._taken == self._taken_before_answer:
            return StaleConnection(kind, detail)
        return WireError(kind, detail)


def _readable(sock: object) -> bool:
    """Whether the kernel holds bytes (or the end) not yet read from ``sock``: a zero-wait
    poll, as httpcore checks a kept connection before reusing it."""
    fileno = getattr(sock, "fileno", None)
    if fileno is None or (fd := fileno()) < 0:
        return True
    if not hasattr(select, "poll"):  # Windows: select() takes sockets there
        return bool(select.select([fd], [], [], 0)[0])
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def _header_dict(fields: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    encoding = _header_encoding(fields)
    headers: dict[str, str] = {}
    for raw_name, raw_value in fields:
        name, value = raw_name.decode(encoding), raw_value.decode(encoding)
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _header_encoding(fields: Sequence[tuple[bytes, bytes]]) -> str:
    """httpx's choice: ASCII if every header is, else UTF-8 if every one reads, else Latin-1."""
    for encoding in ("ascii", "utf-8"):
        try:
            for name, value in fields:
                name.decode(encoding)
                value.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "iso-8859-1"
