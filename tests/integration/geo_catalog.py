"""The catalog of the structured-input tests (`submit`, `exec`): tasks of namespace geo with
an Object input, multi-value inputs and defaults."""

from __future__ import annotations

from typing import Any

CATALOG: list[dict[str, Any]] = [
    {
        "namespace": "geo",
        "name": "trip",
        "inputs": [
            {"name": "start", "baseType": "Object"},
            {"name": "stops", "baseType": "Object", "allowMultipleValues": True},
            {"name": "speeds", "baseType": "Integer", "allowMultipleValues": True},
            {"name": "tags", "allowMultipleValues": True, "defaultValue": []},
        ],
        "outputs": [{"name": "seen", "baseType": "Object"}],
    },
    {
        "namespace": "geo",
        "name": "distance",
        "inputs": [
            {"name": "from", "baseType": "Object"},
            {"name": "to", "baseType": "Object"},
            {"name": "unit", "allowedValues": ["km", "mi"], "defaultValue": "km"},
            {
                "name": "stops",
                "baseType": "Integer",
                "allowMultipleValues": True,
                "defaultValue": [],
            },
        ],
    },
    {"namespace": "geo", "name": "ping"},
]
