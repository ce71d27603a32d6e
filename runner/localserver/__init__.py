"""The embedded, Scenario-compatible platform: run the runner without a platform account."""

from runner.localserver.http import DEFAULT_API_KEY, DEFAULT_PORT, LocalServer

__all__ = ["DEFAULT_API_KEY", "DEFAULT_PORT", "LocalServer"]
