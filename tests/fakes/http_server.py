"""A loopback HTTP server for tests: feeds, pages, redirects and misbehaving servers.

:class:`LocalServer` is an aiohttp server on ``127.0.0.1`` (port 0, so tests never collide).
Routes can be added at any time, before or after start::

    async with LocalServer() as server:
        url = server.route("/feed.xml", b"<rss/>", content_type="application/rss+xml",
                           etag='"v1"')
        server.redirect("/old", "/feed.xml")
        server.serve_directory("/feeds", CORPUS / "feeds")
        ...
        assert server.hits["/feed.xml"] == 1

What it offers:

- ``route``: a fixed body with a status, content type, extra headers, optional gzip, and
  conditional GET (``etag``/``last_modified`` answer ``If-None-Match``/``If-Modified-Since``
  with 304).
- ``redirect``: a 3xx to any ``Location`` (relative or absolute).
- ``drip``: headers at once, then one small chunk per ``interval`` (a slow-loris server).
- ``gzip_bomb``: a valid gzip stream of ``size`` zero bytes, made on the fly from one
  precomputed deflate block, so a 10 GiB bomb costs the server almost nothing to send.
- ``serve_directory``: files under a URL prefix, with ETag/Last-Modified from the file and
  ``*.gz`` files sent as their inner type with ``Content-Encoding: gzip`` (the corpus pages).
- ``faulty``: a path that misbehaves, one :class:`Fault` per request, then answers
  normally (or keeps misbehaving): :func:`hang`, :func:`slow_drip`, :func:`reset`,
  :func:`bomb`, :func:`wrong_length`, :func:`redirect_loop`, :func:`rate_limited` (429
  with Retry-After) and :func:`server_error` (5xx; a list of them is a burst). The
  fetcher, ingest and LLM tests share these.
- ``handle``: any aiohttp handler, for what the above does not cover.
- ``hits[path]`` counts requests per path and ``requests`` records each one (method, path,
  query, headers), so a test can prove a URL was never reached or check which validators
  were sent.

Pass an ``ssl.SSLContext`` to serve https; the server sets its ``sni_callback`` to record
the name each client asked for in ``server_names``. Two helpers build the fetcher's DNS seam:
:func:`fake_resolver` (a name table) and :func:`dial_to` (every vetted address dials this
server), so "public.test resolves to 93.184.216.34" really reaches loopback.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import mimetypes
import socket
import ssl
import struct
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from types import TracebackType

from aiohttp import web
from multidict import CIMultiDict

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]

_ZEROS = bytes(1 << 20)  # one bomb block; allocated once, at import


@dataclass(frozen=True)
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # case-insensitive: headers["if-none-match"] works


@dataclass(frozen=True)
class Fault:
    """One way a server misbehaves on one request; build one with the functions below."""

    kind: str
    status: int = 0
    headers: Mapping[str, str] = field(default_factory=dict)
    size: int = 0
    interval: float = 0.0
    body: bytes = b""


def hang() -> Fault:
    """Read the request, then answer nothing until the server stops."""
    return Fault("hang")


def slow_drip(interval: float = 0.05) -> Fault:
    """Send headers at once, then one byte every ``interval`` seconds (a slow loris)."""
    return Fault("drip", interval=interval)


def reset() -> Fault:
    """Reset the connection (TCP RST) instead of answering."""
    return Fault("reset")


def bomb(size: int = 10 * 1024**3) -> Fault:
    """A gzip-encoded body of ``size`` zero bytes (10 GiB by default, ~10 MB on the wire)."""
    return Fault("bomb", size=size)


def wrong_length(body: bytes = b'{"partial": ', declared: int = 10_000) -> Fault:
    """Declare ``Content-Length: declared``, send the shorter ``body``, close."""
    return Fault("wrong_length", size=declared, body=body)


def redirect_loop() -> Fault:
    """A 302 back to the same path."""
    return Fault("redirect", status=302)


def rate_limited(retry_after: str = "1") -> Fault:
    """429 Too Many Requests with ``Retry-After`` (seconds or an HTTP date)."""
    return Fault("status", status=429, headers={"Retry-After": retry_after})


def server_error(status: int = 500, retry_after: str | None = None) -> Fault:
    """A 5xx answer (``Retry-After`` if given); a list of these is a burst."""
    headers = {"Retry-After": retry_after} if retry_after else {}
    return Fault("status", status=status, headers=headers)


@dataclass(frozen=True)
class _Mount:
    prefix: str
    directory: Path


class LocalServer:
    """An HTTP(S) server on 127.0.0.1 with routes a test sets up (see the module doc)."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.hits: Counter[str] = Counter()
        self.fault_hits: Counter[str] = Counter()
        self.requests: list[Recorded] = []
        self.server_names: list[str | None] = []  # TLS SNI of each handshake
        self._ssl = ssl_context
        if ssl_context is not None:
            ssl_context.sni_callback = self._record_sni
        self._routes: dict[str, Handler] = {}
        self._mounts: list[_Mount] = []
        self._runner: web.ServerRunner | None = None
        self._port = 0
        self._closing = asyncio.Event()  # releases hanging handlers at shutdown

    async def __aenter__(self) -> LocalServer:
        self._runner = web.ServerRunner(web.Server(self._dispatch), shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._ssl)
        await site.start()
        self._port = _bound_port(self._runner)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def _record_sni(
        self, connection: ssl.SSLObject, server_name: str | None, context: ssl.SSLContext
    ) -> None:
        self.server_names.append(server_name)

    @property
    def port(self) -> int:
        """The port the server listens on (known once started)."""
        return self._port

    def url(self, path: str = "/", *, host: str = "127.0.0.1") -> str:
        """The absolute URL of ``path``, optionally under another host name (same port)."""
        scheme = "https" if self._ssl else "http"
        return f"{scheme}://{host}:{self._port}{path}"

    def route(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        content_type: str = "text/plain; charset=utf-8",
        headers: Mapping[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        compress: bool = False,
    ) -> str:
        """Serve a fixed body at ``path``; returns its URL.

        ``etag`` and ``last_modified`` (an HTTP date) are sent, and a request that
        matches them gets 304. ``compress`` sends the body gzip-encoded.
        """
        data = body.encode() if isinstance(body, str) else body
        extra = dict(headers or {})
        extra["Content-Type"] = content_type
        validators = {k: v for k, v in (("ETag", etag), ("Last-Modified", last_modified)) if v}

        async def handler(request: web.BaseRequest) -> web.StreamResponse:
            if _not_modified(request, etag, last_modified):
                return web.Response(status=304, headers=validators)
            return _body_response(data, status, {**extra, **validators}, compress)

        return self.handle(path, handler)

    def redirect(self, path: str, location: str, *, status: int = 302) -> str:
        """Answer ``path`` with a redirect to ``location``; returns the URL of ``path``."""

        async def handler(request: web.BaseRequest) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": location})

        return self.handle(path, handler)

    def drip(
        self, path: str, *, interval: float = 0.05, chunk: bytes = b"<", limit: int = 10_000
    ) -> str:
        """Send headers at once, then ``chunk`` every ``interval`` seconds, ``limit`` times."""

        async def handler(request: web.BaseRequest) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "application/xml"})
            await response.prepare(request)
            try:
                for _ in range(limit):
                    await response.write(chunk)
                    await asyncio.sleep(interval)  # the server's pace, not a test waiting
            except ConnectionError:
                pass  # the client gave up, which is what the test wants
            return response

        return self.handle(path, handler)

    def gzip_bomb(self, path: str, size: int) -> str:
        """Serve ``size`` zero bytes gzip-encoded (about ``size / 1000`` bytes on the wire)."""

        async def handler(request: web.BaseRequest) -> web.StreamResponse:
            response = web.StreamResponse(
                headers={"Content-Type": "application/xml", "Content-Encoding": "gzip"}
            )
            await response.prepare(request)
            try:
                for piece in _batched(gzip_zeros(size), 64 * 1024):
                    await response.write(piece)
            except ConnectionError:
                pass  # the client hung up early: the point of a bomb test
            return response

        return self.handle(path, handler)

    def faulty(
        self,
        path: str,
        faults: Sequence[Fault],
        *,
        then: bytes | str | None = None,
        content_type: str = "application/json",
    ) -> str:
        """Answer the next requests to ``path`` with ``faults``, one each, in order; after
        them, ``then`` (a 200 body), or, when ``then`` is None, the last fault again and
        again. ``fault_hits[path]`` counts the faults served. Returns the URL of ``path``."""
        queue = list(faults)
        body = then.encode() if isinstance(then, str) else then

        async def handler(request: web.BaseRequest) -> web.StreamResponse:
            if not queue or (len(queue) == 1 and body is None):
                fault = queue[0] if queue else None
            else:
                fault = queue.pop(0)
            if fault is None:
                return web.Response(body=body, headers={"Content-Type": content_type})
            self.fault_hits[path] += 1
            return await self._misbehave(request, fault)

        return self.handle(path, handler)

    async def _misbehave(self, request: web.BaseRequest, fault: Fault) -> web.StreamResponse:
        if fault.kind == "hang":
            await self._closing.wait()
            return web.Response(status=503)
        if fault.kind == "drip":
            return await _drip(request, fault.interval, self._closing)
        if fault.kind == "reset":
            return _reset(request)
        if fault.kind == "bomb":
            return await _bomb(request, fault.size)
        if fault.kind == "wrong_length":
            return await _short_body(request, fault.body, fault.size)
        if fault.kind == "redirect":
            return web.Response(status=fault.status, headers={"Location": request.path})
        return web.json_response(
            {"error": {"message": f"HTTP {fault.status}", "type": "fault"}},
            status=fault.status,
            headers=fault.headers,
        )

    def serve_directory(self, prefix: str, directory: Path) -> None:
        """Serve the files of ``directory`` under ``prefix`` (``/feeds`` → ``/feeds/a.xml``)."""
        self._mounts.append(_Mount(prefix.rstrip("/") + "/", directory.resolve()))

    def handle(self, path: str, handler: Handler) -> str:
        """Serve ``path`` with any aiohttp handler; returns its URL."""
        self._routes[path] = handler
        return self.url(path)

    async def _dispatch(self, request: web.BaseRequest) -> web.StreamResponse:
        self.hits[request.path] += 1
        self.requests.append(_record(request))
        handler = self._routes.get(request.path)
        if handler is not None:
            return await handler(request)
        for mount in self._mounts:
            if request.path.startswith(mount.prefix):
                return _serve_file(request, mount, request.path[len(mount.prefix) :])
        return web.Response(status=404, text="not found")


async def _drip(
    request: web.BaseRequest, interval: float, closing: asyncio.Event
) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    try:
        while not closing.is_set():
            await response.write(b" ")
            await asyncio.sleep(interval)  # the server's pace, not a test waiting
    except ConnectionError:
        pass  # the client gave up, which is what the test wants
    return response


def _reset(request: web.BaseRequest) -> web.StreamResponse:
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:  # linger 0: close() sends RST, not FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    return web.Response(status=500)  # never reaches the client


async def _bomb(request: web.BaseRequest, size: int) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    await response.prepare(request)
    try:
        for piece in _batched(gzip_zeros(size), 64 * 1024):
            await response.write(piece)
    except ConnectionError:
        pass  # the client hung up early: the point of a bomb
    return response


async def _short_body(request: web.BaseRequest, body: bytes, declared: int) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = declared
    await response.prepare(request)
    await response.write(body)
    if request.transport is not None:
        request.transport.close()  # the rest never comes
    return response


def fake_resolver(
    table: Mapping[str, Sequence[str]],
) -> Callable[[str, int], Awaitable[list[str]]]:
    """A resolver for ``HttpFetcher(resolver=...)`` that answers from ``table`` only.

    Unknown names fail as the system resolver would (``socket.gaierror``).
    """

    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is not in the test's table")
        return list(table[host])

    return resolve


def dial_to(server: LocalServer) -> Callable[[IPv4Address | IPv6Address, int], tuple[str, int]]:
    """A dial hook for ``HttpFetcher(dial=...)``: every vetted address reaches ``server``."""

    def dial(address: IPv4Address | IPv6Address, port: int) -> tuple[str, int]:
        return "127.0.0.1", server.port

    return dial


def gzip_zeros(size: int) -> Iterator[bytes]:
    """A valid gzip stream of ``size`` zero bytes, produced lazily piece by piece.

    Each 1 MiB block is the same thousand bytes of deflate (a fresh compressor, flushed to
    a byte boundary), so nothing is compressed while streaming. The CRC trailer is worked
    out only if the stream is sent to its end, which a client that stops a bomb never asks.
    """
    yield b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # magic, deflate, no flags, mtime 0
    blocks, rest = divmod(size, len(_ZEROS))
    for _ in range(blocks):
        yield _deflated_zeros(len(_ZEROS))
    if rest:
        yield _deflated_zeros(rest)
    yield zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush(zlib.Z_FINISH)
    yield struct.pack("<II", _zeros_crc(size), size & 0xFFFFFFFF)


def _batched(pieces: Iterator[bytes], size: int) -> Iterator[bytes]:
    """Join small pieces into writes of about ``size`` bytes, as a fast server would send."""
    batch = bytearray()
    for piece in pieces:
        batch += piece
        if len(batch) >= size:
            yield bytes(batch)
            batch.clear()
    if batch:
        yield bytes(batch)


@functools.cache
def _deflated_zeros(length: int) -> bytes:
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return deflater.compress(memoryview(_ZEROS)[:length]) + deflater.flush(zlib.Z_SYNC_FLUSH)


def _zeros_crc(size: int) -> int:
    crc = 0
    blocks, rest = divmod(size, len(_ZEROS))
    for _ in range(blocks):
        crc = zlib.crc32(_ZEROS, crc)
    return zlib.crc32(memoryview(_ZEROS)[:rest], crc)


def _bound_port(runner: web.ServerRunner) -> int:
    port: int = runner.addresses[0][1]  # (host, port) of the one listening socket
    return port


def _record(request: web.BaseRequest) -> Recorded:
    return Recorded(
        method=request.method,
        path=request.path,
        query=request.query_string,
        headers=CIMultiDict(request.headers),  # header names are case-insensitive
    )


def _body_response(
    data: bytes, status: int, headers: dict[str, str], compress: bool
) -> web.Response:
    if compress:
        data = gzip.compress(data)
        headers = {**headers, "Content-Encoding": "gzip"}
    return web.Response(body=data, status=status, headers=headers)


def _not_modified(request: web.BaseRequest, etag: str | None, last_modified: str | None) -> bool:
    """RFC 9110 conditional GET: If-None-Match wins; else If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return etag is not None and ("*" in tags or etag.removeprefix("W/") in tags)
    since = request.headers.get("If-Modified-Since")
    if since is None or last_modified is None:
        return False
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


def _serve_file(request: web.BaseRequest, mount: _Mount, name: str) -> web.Response:
    path = (mount.directory / name).resolve()
    if not path.is_relative_to(mount.directory) or not path.is_file():
        return web.Response(status=404, text="not found")
    stat = path.stat()
    etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
    modified = formatdate(stat.st_mtime, usegmt=True)
    headers = {"ETag": etag, "Last-Modified": modified}
    if _not_modified(request, etag, modified):
        return web.Response(status=304, headers=headers)
    return web.Response(body=path.read_bytes(), headers={**headers, **_file_type(path)})


def _file_type(path: Path) -> dict[str, str]:
    if path.suffix == ".gz":
        inner = mimetypes.guess_type(path.stem)[0] or "application/octet-stream"
        return {"Content-Type": inner, "Content-Encoding": "gzip"}
    return {"Content-Type": mimetypes.guess_type(path.name)[0] or "application/octet-stream"}
