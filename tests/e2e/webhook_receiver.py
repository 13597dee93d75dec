"""A webhook receiver on loopback for notification tests: records every
POST (path, Idempotency-Key, JSON body) and answers with the status the
test sets (200 by default). Can be created before it listens, so that a
test can point skydeckd at a port nobody answers on yet."""

import http.server
import json
import socket
import threading


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebhookReceiver:

    def __init__(self, port=None):
        self.port = port or free_port()
        self.status = 200
        self.attempts = []  # every POST, whatever was answered
        self.accepted = []  # those answered 2xx
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._server = None
        self._thread = None

    def url(self, path="/hook/SECRET-TOKEN"):
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                record = {
                    "path": self.path,
                    "key": self.headers.get("Idempotency-Key"),
                    "content_type": self.headers.get("Content-Type"),
                    "body": json.loads(raw),
                }
                with receiver._lock:
                    status = receiver.status
                    record["status"] = status
                    receiver.attempts.append(record)
                    if 200 <= status < 300:
                        receiver.accepted.append(record)
                    receiver._changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def set_status(self, status):
        with self._lock:
            self.status = status

    def wait(self, predicate, timeout=30, what="webhook deliveries"):
        """Waits until predicate(attempts, accepted) holds; returns accepted."""
        with self._lock:
            if not self._changed.wait_for(
                    lambda: predicate(list(self.attempts), list(self.accepted)), timeout):
                raise AssertionError(f"timed out waiting for {what}; attempts: "
                                     f"{json.dumps(self.attempts, indent=1)}")
            return list(self.accepted)

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None
