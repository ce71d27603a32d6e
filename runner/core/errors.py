"""The runner's few typed errors.

Third-party exceptions (docker, requests, jsonschema) are translated into these
once, at the boundary module that uses the library; everything above that
boundary reacts to these only. The hierarchy is shallow and grouped by how the
caller reacts.
"""

from __future__ import annotations


class RunnerError(Exception):
    """Base of every error the runner raises on purpose."""


class ConfigError(RunnerError):
    """Bad settings, image or catalog: the runner refuses to start."""


class SettingError(ConfigError):
    """A setting's value is wrong, however it was given (a flag, an environment variable,
    the configuration file): a bad command line, found before anything starts (exit 2)."""


def transient_http_status(code: int) -> bool:
    """Whether an HTTP error status may go away if the request is tried again later:
    5xx, 408 (request timeout) and 429 (too many requests)."""
    return code >= 500 or code in (408, 429)


_PLAIN_STR = (BaseException.__str__, OSError.__str__)  # the args' reprs, as a tuple


def in_words(exc: BaseException) -> str:
    """An error's text without the reprs of the errors it wraps. A transport error such as
    ConnectionError(ProtocolError('Connection aborted.', FileNotFoundError(2, 'No such file
    or directory'))) reads "Connection aborted: No such file or directory"; an error that
    wraps none, or says itself what it wraps (its own __str__), reads as its own text."""
    words: list[str] = []
    current, seen = exc, {id(exc)}
    while type(current).__str__ in _PLAIN_STR:
        inner = next((a for a in current.args if isinstance(a, BaseException)), None)
        if inner is None or id(inner) in seen:
            break
        words.extend(a.strip().rstrip(".") for a in current.args if isinstance(a, str))
        current = inner
        seen.add(id(inner))
    if current is exc:
        return str(exc)
    system = current.strerror if isinstance(current, OSError) else None
    words.append(system or str(current) or type(current).__name__)
    return ": ".join(w for w in words if w)


class UsageError(RunnerError):
    """The command line asks for something that cannot be done as given."""


class PlatformError(RunnerError):
    """The platform could not be reached or answered with an error.

    `transient` says whether trying again later may succeed (connection
    refused, timeout, `transient_http_status`); another 4xx is not transient.
    """

    def __init__(self, message: str, *, status: int | None = None, transient: bool) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient


class AuthError(PlatformError):
    """The platform refused the API key (401/403)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message, status=status, transient=False)


class EngineError(RunnerError):
    """The container engine failed or could not be reached."""


class ImageFault(EngineError):
    """A served image cannot be launched now, though the engine works: the engine refuses
    its containers (a 4xx answer to creating or starting one). The runner's fault (it serves
    an image it cannot run), not its tasks'."""


class ImageMissing(ImageFault):
    """A served image is not in the engine now (its tag was removed, or moved to an image
    that is gone)."""


class SecretError(EngineError):
    """A secret file cannot be read or given to a container. The message names the image,
    the secret and its file, never what it holds."""


class RegistryError(RunnerError):
    """A registry could not be asked about an image or pull it. `kind` says why: "refused"
    (it wants credentials the runner does not have), "unknown" (no such image or tag), or
    "unreachable" (it did not answer). The message names the image and the registry."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class StateError(RunnerError):
    """The runner's state on disk (outbox, journal) cannot be written or read."""


class TaskRejected(RunnerError):
    """A task instance cannot run as given (unknown task, invalid inputs).

    The message is what the task's Error status says.
    """


# Process exit codes, named so scripts and orchestrators can tell them apart.
EXIT_OK = 0
EXIT_USAGE = 2  # the command line or a setting is wrong: nothing was started
EXIT_CONFIG = 3  # well-formed settings the world refuses: an image, a catalog, a secret, a port
EXIT_AUTH = 4
EXIT_ENGINE = 5
EXIT_PLATFORM = 6
EXIT_INTERNAL = 70  # a bug: an error the runner does not expect (sysexits' EX_SOFTWARE)
EXIT_INTERRUPTED = 130  # SIGINT or SIGTERM stopped the command (128 + SIGINT)
EXIT_OUTPUT_CLOSED = 141  # the reader of stdout went away (128 + SIGPIPE, as `yes | head`)
