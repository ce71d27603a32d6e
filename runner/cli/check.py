"""`xc-runner check IMAGE...`: whether each task image is right, and a table of what passed.

Exit 0 only when every image passed: its catalog label is valid, and each example its
examples label declares ends as it expects with stdout that keeps the protocol.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from runner.app.imagecheck import ExampleReport, ImageReport, check_image
from runner.app.oneshot import open_oneshot
from runner.cli.output import say
from runner.config.oneshot import OneShotSettings, oneshot_settings
from runner.core.errors import EXIT_INTERRUPTED, EXIT_OK

EXIT_FAILED = 1  # an image did not pass


def check(args: argparse.Namespace) -> int:
    return check_images(oneshot_settings("check", args.images, args, os.environ), args.images)


def check_images(settings: OneShotSettings, images: Sequence[str]) -> int:
    """Check each image, say what was found, and end with the table; the exit code."""
    reports: list[ImageReport] = []
    with open_oneshot(settings) as oneshot:
        for image in images:
            if oneshot.stop.is_set():
                break
            say(f"{image}")
            reports.append(check_image(oneshot, image))
            for line in report_lines(reports[-1]):
                say(f"  {line}")
    say("")
    for line in table(reports):
        say(line)
    if oneshot.stop.is_set():
        return EXIT_INTERRUPTED
    return EXIT_OK if all(r.passed for r in reports) else EXIT_FAILED


def report_lines(report: ImageReport) -> list[str]:
    """What was found in one image, one line each."""
    if report.missing is not None:
        return [f"FAIL  {report.missing}"]
    lines = [f"FAIL  {problem}" for problem in report.problems]
    if not report.problems:
        lines.append(f"ok    catalog: {_count(report.tasks, 'task')}")
    if report.examples is None and not report.problems:
        lines.append("--    no examples (label xc-scenario.examples): none run")
    for example in report.examples or ():
        lines += _example_lines(example)
    return lines


def _example_lines(example: ExampleReport) -> list[str]:
    head = (
        f"{'ok  ' if example.passed else 'FAIL'}  {example.example.path} {example.task}: "
        f"{example.status.status} in {example.took_s:.2f} s"
    )
    details = [*example.mismatches, *(str(v) for v in example.violations)]
    return [head, *(f"        {line}" for line in details)]


def table(reports: Sequence[ImageReport]) -> list[str]:
    """One row per image: its labels' tasks or problems, its examples passed, and whether
    it passed."""
    rows = [("image", "labels", "examples", "result")]
    for report in reports:
        rows.append((report.image, _labels_cell(report), _examples_cell(report), _result(report)))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, [*widths, 0], strict=True)).rstrip()
        for row in rows
    ]


def _labels_cell(report: ImageReport) -> str:
    if report.missing is not None:
        return "-"
    if report.problems:
        return _count(len(report.problems), "problem")
    return _count(report.tasks, "task")


def _examples_cell(report: ImageReport) -> str:
    if report.examples is None:
        return "-" if report.missing or report.problems else "none"
    passed = sum(e.passed for e in report.examples)
    return f"{passed}/{len(report.examples)} passed"


def _result(report: ImageReport) -> str:
    if report.missing is not None:
        return "FAILED (no such image)"
    return "passed" if report.passed else "FAILED"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
