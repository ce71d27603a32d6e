"""A platform that is not the project's own: a minimal, strict XC Scenario API stand-in.

Written from the API notes alone, sharing no code with runner/, so that the
runner is checked against the API rather than against its own server. It
records every request, insists on `Authorization: bearer <key>` and answers
204 on an empty queue, as the notes describe.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class ForeignPlatform:
    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.catalogs: dict[str, list[dict[str, Any]]] = {}
        self.catalog_params: list[dict[str, list[str]]] = []
        self.queues: dict[str, deque[dict[str, Any]]] = {}
        self.statuses: list[tuple[float, dict[str, Any]]] = []
        self.polls: list[float] = []
        self.auth_headers: set[str] = set()
        self.requests: list[tuple[str, str]] = []  # every request's method and path
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> ForeignPlatform:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def enqueue(
        self, namespace: str, name: str, instance_id: str, input_data: dict[str, Any], **extra: Any
    ) -> None:
        with self.lock:
            self.queues.setdefault(namespace, deque()).append(
                {
                    "id": instance_id,
                    "catalogTaskDefinitionNamespace": namespace,
                    "catalogTaskDefinitionName": name,
                    "catalogTaskDefinitionVersion": 1,
                    "inputData": input_data,
                    "status": "Pending",
                    "errorLevel": None,
                    **extra,
                }
            )

    def statuses_of(self, instance_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [s for _, s in self.statuses if s.get("taskInstanceId") == instance_id]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"platform": self})


class _Handler(BaseHTTPRequestHandler):
    platform: ForeignPlatform

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # what the notes do not describe: not implemented
        self.platform.requests.append(("GET", urlsplit(self.path).path))
        self.send_error(501)

    def do_POST(self) -> None:
        platform = self.platform
        platform.requests.append(("POST", urlsplit(self.path).path))
        platform.auth_headers.add(self.headers.get("Authorization", ""))
        if self.headers.get("Authorization", "").lower() != f"bearer {platform.api_key}":
            self._answer(401, {"error": "unauthorized"})
            return
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        parts = url.path.strip("/").split("/")
        with platform.lock:
            self._route(parts, parse_qs(url.query), body)

    def _route(self, parts: list[str], query: dict[str, list[str]], body: Any) -> None:
        platform = self.platform
        if parts[:3] == ["taskcatalog", "api", "catalog-task-definitions"]:
            platform.catalogs[parts[3]] = body
            platform.catalog_params.append(query)
            self._answer(200, body)
        elif parts[:3] == ["polling", "api", "namespaces"] and parts[-1] == "poll":
            platform.polls.append(time.monotonic())
            queue = platform.queues.get(parts[3])
            if queue:
                self._answer(200, queue.popleft())
            else:
                self._answer(204, None)
        elif parts == ["taskstatus", "api", "task-statuses"]:
            platform.statuses.append((time.monotonic(), body))
            self._answer(200, {})
        else:
            self._answer(404, {"error": "no such endpoint"})

    def _answer(self, code: int, body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(code)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
