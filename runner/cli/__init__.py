"""The command line: `xc-runner run|demo|serve|submit|status|watch` (also `python -m runner`)."""

from runner.cli.main import main

__all__ = ["main"]
