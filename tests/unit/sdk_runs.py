"""Run task SDKs as processes on the host, and read what they write.

Every stdout line must be one compact protocol message, valid against
schemas/task-message.schema.json.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.contracts import Contracts

ROOT = Path(__file__).resolve().parents[2]
SDK_DIR = ROOT / "task_images" / "sdk"
RUN_TIMEOUT_S = 30

CONTRACTS = Contracts()


@dataclass
class Run:
    returncode: int
    messages: list[dict[str, Any]]
    stderr: str


def messages_of(stdout: bytes) -> list[dict[str, Any]]:
    """Every stdout line is one protocol message, valid UTF-8 and valid against the schema."""
    text = stdout.decode("utf-8")
    assert text == "" or text.endswith("\n")
    messages = []
    for line in text.splitlines():
        message = json.loads(line)
        assert isinstance(message, dict)
        assert message["type"] in ("notify", "result")
        problem = CONTRACTS.check_message(message)
        assert problem is None, f"{line}: {problem}"
        messages.append(message)
    return messages


def run_process(
    command: list[str], stdin: str | bytes, cwd: Path, env: dict[str, str] | None = None
) -> Run:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run(
        command,
        input=data,
        capture_output=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    return Run(proc.returncode, messages_of(proc.stdout), proc.stderr.decode())


def envelope(task: str, namespace: str = "sample", **inputs: Any) -> str:
    return (
        json.dumps(
            {
                "protocol": 1,
                "namespace": namespace,
                "task": task,
                "taskInstanceId": "ti-1",
                "inputs": inputs,
            }
        )
        + "\n"
    )


def error(message: str, level: str | None = None) -> dict[str, Any]:
    found = {"type": "notify", "status": "Error", "message": message}
    return found if level is None else {**found, "errorLevel": level}


def result(**outputs: Any) -> dict[str, Any]:
    return {"type": "result", "outputs": outputs}
