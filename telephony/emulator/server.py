"""The HTTP side: a threaded server speaking like the VOS3000 Tomcat, with fault injection.

``POST /external/server/<Interface>`` (also ``/external/test/server/`` and
``/external_new/server/``) serves the interfaces; ``/_emulator/...`` are control endpoints
for tests and demos, answered to loopback clients only.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import random
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .faults import Faults
from .garbage import TOMCAT_500, Garbage, misbehave
from .interfaces import INTERFACES, PAYMENTS, handle
from .records import new_phone_card
from .seed import EmulatorState
from .wire import dumps, parse_body

logger = logging.getLogger(__name__)

INTERFACE_ROOTS = ("/external/server/", "/external/test/server/", "/external_new/server/")
CONTROL_ROOT = "/_emulator/"
VOS_CONTENT_TYPE = "text/html;charset=utf-8"
_GARBAGE = (
    b"<html><body>java.lang.NullPointerException\n"
    b"\tat com.kunshi.external.ServerServlet.doPost(ServerServlet.java:87)\n</body></html>"
)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str = VOS_CONTENT_TYPE


class _Saver:
    """Debounced, atomic saves of the state after writes; ``flush`` saves at once."""

    def __init__(self, state: EmulatorState, path: str | os.PathLike[str], delay: float = 0.2):
        self._state, self._path, self._delay = state, path, delay
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()

    def schedule(self) -> None:
        with self._lock:
            if self._timer is None:
                self._timer = threading.Timer(self._delay, self._save)
                self._timer.daemon = True
                self._timer.start()

    def _save(self) -> None:
        with self._lock:
            self._timer = None
        with self._write_lock:
            try:
                self._state.save(self._path)
            except OSError:
                logger.exception("could not save the emulator state to %s", self._path)

    def flush(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        self._save()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: EmulatorServer):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.emulator = emulator
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # the client went away, or stop() ended its connection
        super().handle_error(request, client_address)

    def close_open_sockets(self) -> None:
        """End kept-alive connections, so pooled clients can't reach a stopped server."""
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like Tomcat
    server_version = "Apache-Coyote/1.1"
    sys_version = ""
    timeout = 60  # idle keep-alive connections are closed after this
    # Headers and body go out in separate writes; with Nagle on, each answer on a kept-alive
    # connection would wait for the client's delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.client_address[0], *args)

    def do_POST(self) -> None:
        self._dispatch(self._read_body())

    def do_GET(self) -> None:
        self._dispatch(None)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _dispatch(self, raw: bytes | None) -> None:
        path = urlsplit(self.path).path
        emulator = self.server.emulator
        name = next((path[len(r) :] for r in INTERFACE_ROOTS if path.startswith(r)), None)
        if path.startswith(CONTROL_ROOT):
            reply = emulator.control(path[len(CONTROL_ROOT) :], raw, self.client_address[0])
        elif name is None:
            reply = Reply(404)
        elif raw is None:
            reply = Reply(405)  # the interfaces are POST only
        else:
            reply = emulator.answer(name, raw, self.headers.get("Content-Type", ""))
        if reply is None:  # a dropped connection: no status line, nothing
            self.close_connection = True
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)


def _json_reply(data: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(data, default=str).encode(), "application/json")


class EmulatorServer:
    """The emulator on ``host:port`` (port 0: any free port). ``start()`` runs it in a thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        state: EmulatorState | None = None,
        faults: Faults | None = None,
        state_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.state = state if state is not None else EmulatorState.demo()
        self.faults = faults if faults is not None else Faults()
        self.state_path = state_path
        self.calls: Counter[str] = Counter()
        self._calls_lock = threading.Lock()
        self._dice_lock = threading.Lock()
        self._dice_seed = self.faults.seed
        self._dice = random.Random(self._dice_seed)
        self._saver = _Saver(self.state, state_path) if state_path else None
        self._httpd = _HTTPServer((host, port), self)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()  # wakes answers held by garbage_mode "hang"

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """The interface root: clients POST to ``url + "/GetCustomer"``."""
        return self.base_url + "/external/server"

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"vos-emulator-{self._httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.close_open_sockets()
        self._httpd.server_close()
        if self._saver is not None:
            self._saver.flush()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def state_changed(self) -> None:
        """Schedule a save of the state (after a write, or a --traffic call)."""
        if self._saver is not None:
            self._saver.schedule()

    # --- interfaces ---------------------------------------------------------------------

    def roll(self, rate: float) -> bool:
        """True with probability ``rate``, from dice seeded with ``faults.seed``."""
        if rate <= 0:
            return False
        if rate >= 1:
            return True
        with self._dice_lock:
            if self.faults.seed != self._dice_seed:  # reseeded at run time
                self._dice_seed = self.faults.seed
                self._dice = random.Random(self._dice_seed)
            return self._dice.random() < rate

    def answer(self, name: str, raw: bytes, content_type: str) -> Reply | None:
        """The reply to one interface call; None closes the connection without an answer."""
        with self._calls_lock:
            self.calls[name] += 1
        if name not in INTERFACES:
            return Reply(404)
        faults = self.faults
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        if self.roll(faults.drop_rate):
            return None
        if self.roll(faults.error_rate):
            return Reply(500, TOMCAT_500)
        if self.roll(faults.garbage_rate):
            return Reply(200, _GARBAGE)
        body = parse_body(raw, content_type)
        if body is None:  # what the servlet does with an empty or unreadable body
            return Reply(200)
        return self._answer(name, body, faults)

    def _answer(self, name: str, body: dict[str, Any], faults: Faults) -> Reply | None:
        try:
            answer, changed = handle(name, body, self.state, faults)
            garbage = misbehave(faults, name, answer)
            text = dumps(answer) if garbage is None else ""
        except Exception:  # a bug here looks like a VOS-side exception: an empty body
            logger.exception("emulator failed on %s %r", name, body)
            return Reply(200)
        if changed:
            self.state_changed()
        if name in PAYMENTS and self.roll(faults.drop_after_pay_rate):
            return None
        if garbage is not None:
            return self._garbage(garbage, faults)
        return Reply(200, text.encode())

    def _garbage(self, garbage: Garbage, faults: Faults) -> Reply | None:
        if garbage.hang:  # a thread per connection: other requests are answered meanwhile
            if self._stopping.wait(faults.hang_seconds or None):
                return None  # the emulator stops: close the connection unanswered
        return Reply(garbage.status, garbage.body)

    def add_phone_card(self, pin: str, password: str, money: Any, **fields: Any) -> dict[str, Any]:
        """Add (or replace) a phone card for PayByPhoneCard; ValueError names a bad field."""
        card = new_phone_card(pin, password, money, **fields)
        with self.state.lock:
            self.state.phone_cards[pin] = card
        self.state_changed()
        return card

    # --- control endpoints --------------------------------------------------------------

    def control(self, action: str, raw: bytes | None, client: str) -> Reply:
        if not ipaddress.ip_address(client.removeprefix("::ffff:")).is_loopback:
            return _json_reply({"error": "control endpoints answer loopback clients only"}, 403)
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return _json_reply({"error": "body is not JSON"}, 400)
        if not isinstance(data, dict):
            return _json_reply({"error": "body is not a JSON object"}, 400)
        posted = data if raw is not None else None  # None: a GET
        if action == "health":
            return _json_reply({"ok": True})
        if action == "calls":
            with self._calls_lock:
                return _json_reply(dict(self.calls))
        if action == "faults":
            return self._faults(posted)
        if action == "reset" and posted is not None:
            return self._reset(posted.get("seed"))
        if action == "cards":
            return self._cards(posted)
        return _json_reply({"error": f"unknown control action {action!r}"}, 404)

    def _faults(self, data: dict[str, Any] | None) -> Reply:
        if data is not None:
            try:
                self.faults.update(data)
            except ValueError as exc:
                return _json_reply({"error": str(exc)}, 400)
        return _json_reply(self.faults.to_dict())

    def _cards(self, data: dict[str, Any] | None) -> Reply:
        """GET: every phone card; POST {"pin", "password", "money", ...}: add one."""
        if data is not None:
            fields = dict(data)
            try:
                args = [fields.pop(k) for k in ("pin", "password", "money")]
                self.add_phone_card(*args, **fields)
            except KeyError as exc:
                return _json_reply({"error": f"missing phone card field {exc.args[0]}"}, 400)
            except ValueError as exc:
                return _json_reply({"error": str(exc)}, 400)
        with self.state.lock:
            cards = [dict(c) for c in self.state.phone_cards.values()]
        return _json_reply(cards)

    def _reset(self, spec: Any) -> Reply:
        spec = spec or self.state.seed_spec
        try:
            fresh = EmulatorState.from_spec(str(spec))
        except ValueError as exc:
            return _json_reply({"error": str(exc)}, 400)
        fresh.time_zone = self.state.time_zone
        self.state.replace_with(fresh)
        self.state_changed()
        return _json_reply({"ok": True, "seed": self.state.seed_spec})
