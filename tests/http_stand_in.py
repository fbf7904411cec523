"""A real HTTP server on 127.0.0.1, in a thread, standing in for the internet:
the pictures behind image URLs, and the receivers of webhooks.

Each route is a function of the request returning (status, headers, body);
a body may be an iterable of chunks, written with a pause after each (a slow
server), and without Content-Length when the headers leave it out. Every
request is recorded, with its body."""

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Slow:
    """A body sent a chunk at a time, ``pause`` seconds apart."""

    chunks: Iterable[bytes]
    pause: float


Answer = tuple[int, dict[str, str], bytes | Slow]


@dataclass
class StandIn:
    routes: dict[str, Callable[[Request], Answer]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def received(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


def _handler(stand_in: StandIn):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # no keep-alive: a body may end with the connection

        def log_message(self, *args):  # quiet
            pass

        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(self.command, self.path, dict(self.headers.items()), body)
            stand_in.requests.append(request)
            route = stand_in.routes.get(self.path.split("?", 1)[0])
            status, headers, answer = route(request) if route else (404, {}, b"not here")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if isinstance(answer, bytes) and "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            try:
                if isinstance(answer, Slow):
                    for chunk in answer.chunks:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        time.sleep(answer.pause)
                else:
                    self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up: that is what some tests want

        do_GET = do_POST = _serve

    return Handler


def start() -> StandIn:
    stand_in = StandIn()
    stand_in.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stand_in))
    stand_in.server.daemon_threads = True
    threading.Thread(target=stand_in.server.serve_forever, daemon=True).start()
    return stand_in


def stop(stand_in: StandIn) -> None:
    stand_in.server.shutdown()
    stand_in.server.server_close()
