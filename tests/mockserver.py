"""A local HTTP server for crawl tests: canned responses by path, and a record of what was asked.

Usage::

    routes = {"/a/1.html": (200, {"Content-Type": "text/html"}, b"<html>…</html>")}
    with MockServer(routes, ignore_params={"req_trace"}) as server:
        url = server.url("/a/1.html")     # http://127.0.0.1:<random port>/a/1.html
        ...                               # crawl it (in this or another process)
        assert server.requested == ["/a/1.html"]

A route key is a path, optionally with its query; keys and requests are compared with the query
parameters sorted and the ``ignore_params`` removed (timestamps such as ``req_trace``). A route may
also be a list of responses, served one per request in order, the last one repeating. A request
matching no route gets a 404. A route may be a function too, of the request's path (with its
query) and headers, computing its answer (a listing that changes while a crawl follows it); keyed
by a bare path, it answers that path whatever the query. Routes may be added while the server runs
(``server.routes[k] = …``), e.g. once the port, hence absolute URLs inside bodies, is known.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Self
from urllib.parse import parse_qsl, urlencode, urlsplit

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from types import TracebackType

Response = tuple[int, dict[str, str], bytes]
Handler = Callable[[str, "Mapping[str, str]"], Response]
Route = Response | list[Response] | Handler
NOT_FOUND: Response = (404, {"Content-Type": "text/plain"}, b"not found")


class MockServer:
    """Serve ``routes`` on 127.0.0.1 (random port) from a thread; record every requested path."""

    def __init__(
        self,
        routes: Mapping[str, Route] | None = None,
        ignore_params: Iterable[str] = (),
        keep_alive: bool = True,
    ) -> None:
        self.ignore_params = frozenset(ignore_params)
        # HTTP/1.0 closes each connection after its answer. A client re-sends, unseen by Scrapy's
        # retry, a request whose reused connection dropped before the answer came back.
        self.protocol = "HTTP/1.1" if keep_alive else "HTTP/1.0"
        self.routes = _Routes(self)
        self.routes.update(routes or {})
        self.requested: list[str] = []
        self._lock = threading.Lock()
        # The headers of the request each handler thread is answering (for function routes).
        self._request = threading.local()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self._httpd.server_address[1]

    def url(self, path: str = "/") -> str:
        """Return the absolute URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def key(self, path: str) -> str:
        """Return the lookup key of a path: query sorted, ignored parameters removed."""
        parts = urlsplit(path)
        query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if k not in self.ignore_params)  # fmt: skip
        return f"{parts.path}?{urlencode(query)}" if query else parts.path

    def count(self, path: str) -> int:
        """Return how many requests matched ``path`` (compared like route keys)."""
        key = self.key(path)
        with self._lock:
            return sum(1 for p in self.requested if self.key(p) == key)

    def _respond(self, path: str) -> Response:
        key = self.key(path)
        with self._lock:
            self.requested.append(path)
            route = self.routes.get(key) or self.routes.get(urlsplit(path).path, NOT_FOUND)
            if not callable(route) and key not in self.routes:
                route = NOT_FOUND
            if isinstance(route, list):
                served = sum(1 for p in self.requested if self.key(p) == key)
                return route[min(served, len(route)) - 1]
        return route(path, self._request.headers) if callable(route) else route

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = server.protocol

            def do_GET(self) -> None:
                server._request.headers = dict(self.headers.items())
                status, headers, body = server._respond(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Keep test output quiet."""

        return Handler

    def start(self) -> Self:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _Routes(dict[str, Route]):
    """Routes stored under their normalised keys."""

    def __init__(self, server: MockServer) -> None:
        super().__init__()
        self._server = server

    def __setitem__(self, path: str, response: Route) -> None:
        super().__setitem__(self._server.key(path), response)

    def update(self, other: Mapping[str, Route] = (), /, **kwargs: Route) -> None:  # type: ignore[override]
        for path, response in dict(other, **kwargs).items():
            self[path] = response
