"""The commands that serve: `run` (the runner for a platform) and `serve` (the local server)."""

from __future__ import annotations

import argparse
import os

from runner.app.lifecycle import open_runner
from runner.app.signals import StopFlag, stop_on_signals
from runner.config.local import SERVE_OPTIONS, local_settings
from runner.config.settings import runner_settings
from runner.core.errors import EXIT_OK
from runner.localserver import LocalServer
from runner.localserver.retention import Retention


def run(args: argparse.Namespace) -> int:
    with open_runner(runner_settings(args, os.environ)) as runner:
        if runner is not None:
            runner.run()
    return EXIT_OK


def serve(args: argparse.Namespace) -> int:
    settings = local_settings(args, os.environ, SERVE_OPTIONS)
    stop = StopFlag()
    with (
        stop_on_signals(stop),
        LocalServer(
            settings.db,
            host=settings.host,
            port=settings.port,
            api_key=settings.api_key,
            retention=Retention(settings.keep_ended, settings.keep_ended_days),
        ),
    ):
        stop.wait()  # the server logs where it listens
    return EXIT_OK
