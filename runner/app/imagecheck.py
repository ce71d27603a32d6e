"""`xc-runner check` of one image: its catalog label, its examples label, and a run of each
example through the executor, its result held to what the example expects and its stdout
to the protocol (runner.core.conformance)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from runner.app.oneshot import OneShot
from runner.core.catalog import CATALOG_LABEL, Catalog, TaskRoute, read_label, routes
from runner.core.conformance import Problem, ProtocolChecks, Violation, protocol_violations
from runner.core.errors import ConfigError
from runner.core.examples import EXAMPLES_LABEL, Example, example_route, examples_from, mismatches
from runner.core.model import TaskInstance, TaskStatus

_UNREADABLE = object()  # a label that is missing, too large, too deep, or not JSON


@dataclass
class ExampleReport:
    example: Example
    route: TaskRoute
    status: TaskStatus
    mismatches: list[str]
    violations: list[Violation]
    took_s: float

    @property
    def passed(self) -> bool:
        return not self.mismatches and not self.violations

    @property
    def task(self) -> str:
        return f"{self.route.namespace}/{self.route.name}"


@dataclass
class ImageReport:
    image: str
    missing: str | None = None  # why the image could not be looked at, if it could not
    tasks: int = 0
    problems: list[Problem] = field(default_factory=list)  # of its labels
    examples: list[ExampleReport] | None = None  # None: it declares none

    @property
    def passed(self) -> bool:
        return (
            self.missing is None
            and not self.problems
            and all(e.passed for e in self.examples or ())
        )


def check_image(oneshot: OneShot, image: str) -> ImageReport:
    """Everything wrong with `image`, its examples run when its labels are right."""
    report = ImageReport(image)
    try:
        labels = oneshot.engine.image_labels(image)
    except ConfigError as exc:
        report.missing = str(exc)
        return report
    catalog = _catalog(oneshot, labels.get(CATALOG_LABEL), report)
    if catalog is None or EXAMPLES_LABEL not in labels:
        return report
    examples = _examples(oneshot, labels[EXAMPLES_LABEL], report)
    routed = [(e, example_route(e, list(catalog))) for e in examples]
    report.problems += [r for _, r in routed if isinstance(r, Problem)]
    if report.problems or oneshot.stop.is_set():
        return report
    report.examples = []
    for example, route in routed:
        if isinstance(route, TaskRoute) and not oneshot.stop.is_set():
            report.examples.append(_run_example(oneshot, catalog, example, route))
    return report


def _catalog(oneshot: OneShot, text: str | None, report: ImageReport) -> Catalog | None:
    """The image's tasks; None, with the problems in the report, when the label is wrong."""
    document = _label_json(CATALOG_LABEL, text, report)
    if document is _UNREADABLE:
        return None
    report.problems += oneshot.contracts.catalog_problems(document)
    if report.problems:
        return None
    catalog = Catalog(routes(report.image, document))
    report.tasks = len(catalog)
    return catalog


def _examples(oneshot: OneShot, text: str, report: ImageReport) -> list[Example]:
    document = _label_json(EXAMPLES_LABEL, text, report)
    if document is _UNREADABLE:
        return []
    found = oneshot.contracts.examples_problems(document)
    report.problems += found
    return [] if found else examples_from(document)


def _label_json(label: str, text: str | None, report: ImageReport) -> Any:
    """The label's JSON (`null` too: the catalog check refuses it, as the start-up does), or
    _UNREADABLE, with the problem in the report."""
    if text is None or not text.strip():
        hint = ": a task image declares its task catalog in it" if label == CATALOG_LABEL else ""
        report.problems.append(Problem(f"label {label}", f"missing or empty{hint}"))
        return _UNREADABLE
    try:
        return read_label(text)
    except ValueError as exc:
        report.problems.append(Problem(f"label {label}", str(exc)))
        return _UNREADABLE


def _run_example(
    oneshot: OneShot, catalog: Catalog, example: Example, route: TaskRoute
) -> ExampleReport:
    instance = TaskInstance(
        f"check-example-{example.index}", route.namespace, route.name, dict(example.inputs)
    )
    started = time.monotonic()
    record = oneshot.run(catalog, instance)
    took_s = time.monotonic() - started
    violations: list[Violation] = []
    if record.stdout is not None:
        violations = protocol_violations(record.stdout, _checks(oneshot, route))
    return ExampleReport(
        example, route, record.status, mismatches(example.expect, record.status), violations, took_s
    )


def _checks(oneshot: OneShot, route: TaskRoute) -> ProtocolChecks:
    policy = oneshot.policy(route.image)
    return ProtocolChecks(
        message=oneshot.contracts.message_problems,
        outputs=partial(oneshot.contracts.output_problems, route),
        max_output_bytes=policy.max_output_bytes,
        max_line_bytes=policy.max_line_bytes,
        max_result_bytes=policy.max_result_bytes,
    )
