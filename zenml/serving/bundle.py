"""The model bundle format (defined in ``zenml.steps.bundle``, where deployer steps write it)."""

from __future__ import annotations

from zenml.steps.bundle import BUNDLE_FILE, BUNDLE_VERSION, ModelBundle, input_schema, write_bundle

__all__ = ["BUNDLE_FILE", "BUNDLE_VERSION", "ModelBundle", "input_schema", "write_bundle"]
