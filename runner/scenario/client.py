"""The XC Scenario REST API, as the reference worker speaks it.

The only module of the runner that imports requests. Transport failures and HTTP errors
become PlatformError / AuthError here, once; `transient` tells callers whether
trying again may help.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from runner import __version__
from runner.core.documents import MAX_ANSWER_DEPTH, TooDeep, read_json
from runner.core.errors import AuthError, PlatformError, transient_http_status
from runner.core.model import TaskStatus

log = logging.getLogger(__name__)

_CONNECT_TIMEOUT_S = 5.0
# The local server's answers carry this header: it takes each task's log (an extension
# of the local server only; the platform's answers never carry it).
TASK_LOGS_HEADER = "X-XC-Task-Logs"
TASK_LOGS_PATH = "/local/api/task-logs"
# Beside a hand-out of the local server: the token its log is sent back with (only the
# runner that was handed an instance may send its log). Kept here, for so many hand-outs.
LOG_TOKEN = "taskLogToken"  # noqa: S105 -- the name of the field, not a token
_KEPT_LOG_TOKENS = 4096
_MAX_ERROR_TEXT = 300


class PlatformClient:
    def __init__(self, server_url: str, api_key: str, *, timeout_s: float = 30.0) -> None:
        self._base = server_url.rstrip("/")
        self._headers = {
            "Authorization": f"bearer {api_key}",
            "User-Agent": f"xc-scenario-runner/{__version__}",
        }
        self._timeout = (min(_CONNECT_TIMEOUT_S, timeout_s), timeout_s)
        # requests.Session is not documented as thread-safe: one per thread.
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self.takes_task_logs = False  # the server said so on an answer
        self._log_tokens: OrderedDict[str, str] = OrderedDict()  # by instance id

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # read once per server instead: _environment
            session.headers.update(self._headers)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def _request(
        self,
        method: str,
        what: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        answered: frozenset[int] = frozenset(),
    ) -> requests.Response:
        """The response; `path` is relative to the server unless absolute. Status codes in
        `answered` are returned as they are, other errors become PlatformError/AuthError."""
        absolute = path.startswith(("http://", "https://"))
        url = path if absolute else self._base + path
        try:
            response = self._session().request(
                method, url, params=params, json=body, timeout=self._timeout, **_environment(url)
            )
        except requests.RequestException as exc:
            where = url.split("?", 1)[0] if absolute else self._base
            reason = refused(where) if _refused(exc) else str(exc)
            raise PlatformError(f"{what}: cannot reach {where}: {reason}", transient=True) from exc
        if response.headers.get(TASK_LOGS_HEADER) == "1" and not absolute:
            self.takes_task_logs = True
        if response.status_code not in answered:
            _raise_for_status(what, response)
        return response

    def _post(
        self, what: str, path: str, *, params: Mapping[str, str] | None = None, body: Any = None
    ) -> requests.Response:
        return self._request("POST", what, path, params=params, body=body)

    def publish_catalog(
        self,
        namespace: str,
        definitions: Sequence[Mapping[str, Any]],
        *,
        remove_previous: bool = False,
    ) -> None:
        params = {"removePreviousTasks": "true"} if remove_previous else None
        self._post(
            f"publishing the catalog of {namespace}",
            f"/taskcatalog/api/catalog-task-definitions/{quote(namespace, safe='')}",
            params=params,
            body=list(definitions),
        )

    def poll(self, namespace: str, name: str | None = None) -> Mapping[str, Any] | None:
        """A task instance taken off the queue (of the task `name` only, if given), or None
        when the queue is empty."""
        what = f"polling {namespace}" + (f" for {name}" if name else "")
        response = self._post(
            what,
            f"/polling/api/namespaces/{quote(namespace, safe='')}/task-instances/poll",
            params={"catalogTaskDefinitionName": name} if name else None,
        )
        if response.status_code == 204 or not response.content:
            return None
        try:
            instance = read_json(response.content, MAX_ANSWER_DEPTH)
        except TooDeep as exc:
            raise PlatformError(f"{what}: the answer is {exc}", transient=False) from None
        except ValueError:
            raise PlatformError(
                f"{what}: the answer ({response.status_code}) is not JSON: {_clip(response.text)}",
                transient=False,
            ) from None
        if not isinstance(instance, dict):
            raise PlatformError(
                f"{what}: the answer is not a JSON object: {_clip(response.text)}", transient=False
            )
        token = instance.pop(LOG_TOKEN, None)
        if isinstance(token, str):
            with self._lock:
                self._log_tokens[str(instance.get("id"))] = token
                while len(self._log_tokens) > _KEPT_LOG_TOKENS:
                    self._log_tokens.popitem(last=False)
        return instance

    def is_cancelled(
        self, url_template: str, namespace: str, instance_id: str | int
    ) -> bool | None:
        """Whether the platform cancelled this instance; None if it has no such check (404)."""
        path = url_template.format(
            namespace=quote(namespace, safe=""), id=quote(str(instance_id), safe="")
        )
        what = f"checking whether task instance {instance_id} was cancelled"
        response = self._request("GET", what, path, answered=frozenset({404}))
        if response.status_code == 404:
            return None
        try:
            answer = read_json(response.content, MAX_ANSWER_DEPTH)
        except ValueError:  # TooDeep too
            answer = None
        if not isinstance(answer, dict) or "isCanceled" not in answer:
            raise PlatformError(
                f"{what}: unexpected answer: {_clip(response.text)}", transient=False
            )
        return str(answer["isCanceled"]).strip().lower() == "true"

    def post_task_log(self, body: Mapping[str, Any]) -> None:
        """A task's log, to a server that said it takes them (`takes_task_logs`), with the
        token its instance was handed out with."""
        instance_id = str(body["taskInstanceId"])
        with self._lock:
            token = self._log_tokens.get(instance_id)
        sent = dict(body) if token is None else {**body, LOG_TOKEN: token}
        self._post(f"sending the log of task instance {instance_id}", TASK_LOGS_PATH, body=sent)
        with self._lock:
            self._log_tokens.pop(instance_id, None)

    def post_status(self, status: TaskStatus) -> None:
        self._post(
            f"posting {status.status} for task instance {status.task_instance_id}",
            "/taskstatus/api/task-statuses",
            body=status.to_wire(),
        )


def _environment(url: str) -> dict[str, Any]:
    """The proxies and CA bundle the environment sets for `url`'s server (as requests reads
    them: HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE...), read once per server. requests
    would read them at each request (the whole environment scanned: about half a
    millisecond of CPU, on each poll and status post); and it would also let a ~/.netrc
    entry for the server replace the API key's header."""
    parts = urlsplit(url)
    proxies, verify = _origin_environment(f"{parts.scheme}://{parts.netloc}")
    return {"proxies": dict(proxies), "verify": verify}


@lru_cache(maxsize=16)
def _origin_environment(origin: str) -> tuple[dict[str, str], str | bool]:
    verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return requests.utils.get_environ_proxies(origin), verify


def _raise_for_status(what: str, response: requests.Response) -> None:
    code = response.status_code
    if code < 400:
        return
    detail = f"{what}: the platform answered {code}: {_clip(response.text)}"
    if code in (401, 403):
        raise AuthError(f"{what}: the platform refused the API key ({code})", status=code)
    raise PlatformError(detail, status=code, transient=transient_http_status(code))


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_ERROR_TEXT else text[:_MAX_ERROR_TEXT] + "..."


def refused(where: str) -> str:
    """What a refused connection means: nothing listens there; on this machine, the local
    server may not have been started."""
    local = urlsplit(where).hostname in ("127.0.0.1", "localhost", "::1")
    hint = " (the local server starts with `xc-runner serve`)" if local else ""
    return f"connection refused: no server listens there{hint}"


def _refused(exc: BaseException) -> bool:
    """Whether the error comes from a refused connection, however requests and urllib3
    wrapped it (ConnectionError(MaxRetryError(reason=NewConnectionError from the refusal)))."""
    found: object = exc
    for _ in range(8):
        if isinstance(found, ConnectionRefusedError):
            return True
        if not isinstance(found, BaseException):
            return False
        wrapped = found.args[0] if found.args else None
        found = (
            getattr(found, "reason", None)
            or found.__cause__
            or found.__context__
            or (wrapped if isinstance(wrapped, BaseException) else None)
        )
    return False
