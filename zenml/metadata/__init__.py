"""Metadata: the SQL store of pipelines, runs, step runs, artifacts, lineage and metrics."""

from zenml.metadata.records import ArtifactRecord, EventRecord, PipelineRecord, RunRecord, StepRunRecord
from zenml.metadata.store import SQLMetadataStore

__all__ = ["ArtifactRecord", "EventRecord", "PipelineRecord", "RunRecord", "SQLMetadataStore", "StepRunRecord"]
