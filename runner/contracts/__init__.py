"""The wire contracts in schemas/, checked with jsonschema (the only importer of it)."""

from runner.contracts.validation import Contracts, schema_dir

__all__ = ["Contracts", "schema_dir"]
