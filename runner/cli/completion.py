"""`xc-runner completion bash|zsh`: a shell completion script for every command and
option, made from the command line's own parser by shtab, the only module that imports
it.

    source <(xc-runner completion bash)                          # this shell
    xc-runner completion bash > /etc/bash_completion.d/xc-runner   # every shell
    xc-runner completion zsh > "${fpath[1]}/_xc-runner"
"""

from __future__ import annotations

import argparse
import sys

import shtab

from runner.cli import parser
from runner.cli.output import OutputClosed
from runner.core.errors import EXIT_OK

_FILES = frozenset({"config_path", "db", "api_key_file", "input_json", "from_file"})
_FOLDERS = frozenset({"state_dir", "secrets_dir", "dir", "folders", "context"})


def script(shell: str) -> str:
    """The completion script for `shell` (bash or zsh)."""
    top = parser.parser()
    _complete_paths(top)
    text: str = shtab.complete(top, shell=shell)
    return text


def _complete_paths(command: argparse.ArgumentParser) -> None:
    """Options that name a file or a folder complete as one."""
    for action in command._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _complete_paths(sub)
        elif action.dest in _FILES:
            action.complete = shtab.FILE  # type: ignore[attr-defined]
        elif action.dest in _FOLDERS:
            action.complete = shtab.DIRECTORY  # type: ignore[attr-defined]


def print_script(args: argparse.Namespace) -> int:
    try:
        sys.stdout.write(script(args.shell))
        sys.stdout.flush()
    except BrokenPipeError:
        raise OutputClosed from None
    return EXIT_OK
