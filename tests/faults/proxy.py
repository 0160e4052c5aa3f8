"""A small threaded TCP proxy that can play a database restart: refuse new connections and reset the open ones."""
from __future__ import annotations

import socket
import struct
import threading
from contextlib import suppress


def _reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0, so the peer sees a TCP reset rather than an orderly close.

    shutdown(SHUT_RD) first wakes a thread blocked in recv() on it (close() alone would not, and the
    connection would stay open until that recv returned) and sends nothing to the peer.
    """
    # The socket may already be closed by its peer: that is the state we want, not an error.
    with suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)
    with suppress(OSError):
        sock.close()


class CuttableProxy:
    """Forwards 127.0.0.1:<port> to `upstream`; `cut()` stops it like a stopped server, `restore()` restarts it.

    While cut, the listening socket is closed (a new connection is refused, ECONNREFUSED) and every open
    connection was reset: exactly what a client of PostgreSQL sees while the server restarts.
    """

    def __init__(self, upstream_host: str, upstream_port: int):
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._up = False
        self.accepted = 0
        self.refused_while_cut = 0

    # --- life cycle -----------------------------------------------------------------------------------
    def start(self) -> CuttableProxy:
        self._listen()
        return self

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener, self._up = listener, True
        threading.Thread(target=self._accept_loop, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """The database goes away: refuse new connections, reset every open one."""
        with self._lock:
            self._up = False
            listener, self._listener = self._listener, None
            sockets, self._open = list(self._open), set()
        if listener is not None:
            _reset(listener)
        for sock in sockets:
            _reset(sock)

    def restore(self) -> None:
        """The database is back on the same port."""
        self._listen()

    def close(self) -> None:
        self.cut()

    # --- forwarding -----------------------------------------------------------------------------------
    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                downstream, _ = listener.accept()
            except OSError:
                return  # the listener was closed by cut()
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(downstream)
                continue
            with self._lock:
                if not self._up:
                    self.refused_while_cut += 1
                    _reset(downstream)
                    _reset(upstream)
                    continue
                self._open.update((downstream, upstream))
                self.accepted += 1
            threading.Thread(target=self._pump, args=(downstream, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, downstream), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:  # a cut or a peer's reset ends the pump; the finally block tidies up
            pass
        finally:
            with self._lock:
                closing = source in self._open or target in self._open
                self._open.discard(source)
                self._open.discard(target)
            if closing:
                for sock in (source, target):
                    with suppress(OSError):  # already closed by the other pump or the peer
                        sock.shutdown(socket.SHUT_RDWR)
                    with suppress(OSError):
                        sock.close()
