"""A small client for the local server's admin API (/local/api), on urllib only.

Only runner/scenario/client.py may import requests; this client serves the CLI
commands that submit tasks and watch statuses.
"""

from __future__ import annotations

import http.client
import json
import logging
from typing import Any
from urllib.error import HTTPError
from urllib.parse import quote, urlencode, urlsplit
from urllib.request import Request, urlopen

from runner.core.documents import MAX_ANSWER_DEPTH, read_json
from runner.core.errors import AuthError, ConfigError, PlatformError, transient_http_status

logger = logging.getLogger(__name__)


class LocalClient:
    """Submit task instances to the local server, read them back, follow statuses."""

    def __init__(self, base_url: str, api_key: str, timeout_s: float = 10) -> None:
        if urlsplit(base_url).scheme not in ("http", "https"):
            raise ConfigError(f"local server URL {base_url!r} must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._api_key = api_key

    def submit(
        self,
        namespace: str,
        name: str,
        input_data: dict[str, Any] | None = None,
        timeout_ms: int | None = None,
    ) -> dict[str, Any]:
        """Queue a task instance; the answer is its TaskInstance (plus a `warning`, maybe)."""
        body: dict[str, Any] = {"namespace": namespace, "name": name, "inputData": input_data or {}}
        if timeout_ms is not None:
            body["timeOutInMillis"] = timeout_ms
        return self._call("POST", "/local/api/task-instances", body)

    def submit_many(self, submissions: list[dict[str, Any]]) -> dict[str, Any]:
        """Queue these submit bodies in one request, all or none (the bulk endpoint, at most
        its MAX_INSTANCES); the answer holds their `ids` and the server's `warnings`."""
        return self._call("POST", "/local/api/task-instances/bulk", submissions)

    def catalog(self, namespace: str) -> list[dict[str, Any]]:
        """The task definitions the server has published in `namespace`."""
        path = f"/taskcatalog/api/catalog-task-definitions/{quote(namespace, safe='')}"
        answer = self._request("GET", path)
        if not isinstance(answer, list) or not all(isinstance(d, dict) for d in answer):
            raise PlatformError(
                f"GET {self.base_url}{path}: answer is not a catalog", transient=False
            )
        return answer

    def instance(self, instance_id: str) -> dict[str, Any]:
        return self._call("GET", f"/local/api/task-instances/{quote(instance_id, safe='')}")

    def cancel(self, instance_id: str) -> dict[str, Any]:
        return self._call("POST", f"/local/api/task-instances/{quote(instance_id, safe='')}/cancel")

    def statuses(self, after: int, wait_s: float) -> dict[str, Any]:
        """Statuses with seq > after, waiting up to wait_s on the server for the first one."""
        query = urlencode({"after": after, "waitSeconds": wait_s})
        # The server may hold the request for wait_s before answering.
        return self._call("GET", f"/local/api/statuses?{query}", timeout_s=self.timeout_s + wait_s)

    def _call(
        self, method: str, path: str, body: Any = None, timeout_s: float | None = None
    ) -> dict[str, Any]:
        answer = self._request(method, path, body, timeout_s)
        if not isinstance(answer, dict):
            raise PlatformError(
                f"{method} {self.base_url}{path}: answer is not a JSON object", transient=False
            )
        return answer

    def _request(
        self, method: str, path: str, body: Any = None, timeout_s: float | None = None
    ) -> Any:
        url = self.base_url + path
        data = None if body is None else json.dumps(body).encode()
        request = Request(url, data=data, method=method)  # noqa: S310 -- scheme checked in __init__
        request.add_header("Authorization", f"bearer {self._api_key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urlopen(request, timeout=timeout_s or self.timeout_s) as response:  # noqa: S310
                raw = response.read()
        except HTTPError as exc:
            raise _http_error(method, url, exc) from None
        except (OSError, http.client.HTTPException) as exc:  # URLError is an OSError
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, ConnectionRefusedError):
                raise PlatformError(self._refused(), transient=True) from None
            raise PlatformError(f"{method} {url} failed: {reason}", transient=True) from None
        try:
            return read_json(raw, MAX_ANSWER_DEPTH)
        except ValueError as exc:  # TooDeep too
            raise PlatformError(
                f"{method} {url}: answer is not JSON: {exc}", transient=False
            ) from None

    def _refused(self) -> str:
        """What a refused connection means, and what to do about it."""
        return (
            f"no server answers at {self.base_url} (connection refused): start the local "
            "server with `xc-runner serve` (its port: --port or XC_LOCAL_PORT), or give "
            "the address of yours with --server or XC_SCENARIO_SERVER"
        )


def _http_error(method: str, url: str, exc: HTTPError) -> PlatformError:
    with exc:
        text = exc.read().decode("utf-8", "replace")
    try:
        detail = read_json(text, MAX_ANSWER_DEPTH).get("error", text)
    except (ValueError, AttributeError):
        detail = text
    status = exc.code
    logger.debug("local server answered %s to %s %s: %s", status, method, url, detail)
    message = f"{method} {url} answered {status}: {detail}".strip()
    if status in (401, 403):
        return AuthError(message, status=status)
    return PlatformError(message, status=status, transient=transient_http_status(status))
