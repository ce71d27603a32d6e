"""The JSON shapes the local server answers with, built from stored rows.

Pure functions: no SQL here, so the platform's wire format sits in one place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from runner.localserver.database import Row
from runner.localserver.jsontext import stored


def utc_now() -> str:
    """The time now, as `iso` writes it."""
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and `Z`, as Java platforms print dates."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def annotate_inputs(inputs: Mapping[str, Any], definition: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs plus `<name>#type` for every declared input, as the platform adds them."""
    declared = {p["name"]: p.get("baseType") or "String" for p in definition.get("inputs") or []}
    annotated = dict(inputs)
    for key in inputs:
        if key in declared:
            annotated.setdefault(f"{key}#type", declared[key])
    return annotated


def next_version(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> int:
    """1 when new, +1 when the content changed; versionNumber itself does not count."""
    if old is None:
        return 1
    version = int(old.get("versionNumber") or 0)
    return version if _content(old) == _content(new) else version + 1


def _content(definition: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in definition.items() if k != "versionNumber"}, sort_keys=True)


def task_instance(row: Row, definition: Mapping[str, Any] | None, status: str) -> dict[str, Any]:
    definition = definition or {}
    timeout = (
        row["timeout_ms"] if row["timeout_ms"] is not None else definition.get("timeOutInMillis")
    )
    return {
        "id": row["id"],
        "catalogTaskDefinitionNamespace": row["namespace"],
        "catalogTaskDefinitionName": row["name"],
        "catalogTaskDefinitionVersion": definition.get("versionNumber"),
        "inputData": annotate_inputs(stored(row["input_data"]) or {}, definition),
        "workflowInstanceId": row["workflow_instance_id"],
        "workflowDefinitionWorkspaceName": "local",
        "taskDefinitionId": None,
        "workerId": None,
        "timeOutInMillis": timeout,
        "status": status,
        "errorLevel": None,
        "creationDate": row["created_at"],
        "workflowInstanceResumeCount": 0,
        "userName": "local",
        "invariants": definition.get("invariants") or [],
        "outputData": None,
    }


def status_record(row: Row) -> dict[str, Any]:
    return {
        "seq": row["seq"],
        "taskInstanceId": row["instance_id"],
        "namespace": row["namespace"],
        "name": row["name"],
        "status": row["status"],
        "message": row["message"],
        "progressPercentage": stored(row["progress"]),
        "outputValues": stored(row["output_values"]),
        "errorLevel": row["error_level"],
        "receivedAt": row["received_at"],
    }


def dumps_or_none(value: Any) -> str | None:
    return None if value is None else dumps(value)


def dumps(value: Any) -> str:
    """JSON text for the database; NaN or Infinity would be a bug upstream, so they raise."""
    return json.dumps(value, allow_nan=False)


def record_bytes(row: Row) -> int:
    """About how large a status row is as JSON, to keep pages of statuses bounded."""
    fields = ("message", "progress", "output_values")
    return 200 + sum(len(row[f] or "") for f in fields)
