"""Data versions: which source data a run read, and serving a source step from an earlier run's snapshot.

A source step (a datasource) records the version of the data it read (``source`` among its cache
components) and writes what it ingested as its output artifacts: that output is the *snapshot* of
that version. A run spec may pin a source step to a recorded run's snapshot (``RunSpec.data_from``):
the step then never touches its source; its outputs are the snapshot's artifacts, checked intact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zenml.exceptions import ConfigError
from zenml.metadata.records import ArtifactRecord, StepRunRecord
from zenml.pipelines.spec import DataPin, RunSpec
from zenml.runtime.loading import add_code_paths, load_step
from zenml.runtime.reuse import damaged_output
from zenml.runtime.stores import Stores
from zenml.steps.base import BaseStep
from zenml.utils.status import SUCCEEDED_STEP, StepStatus

_SHORT_HEX = 12


@dataclass(frozen=True)
class SourceRead:
    """What one source step of a recorded run read.

    Attributes:
        step: the step's name.
        version: the data version (content hash) of its source.
        step_run: the step run that recorded it.
        outputs: its output artifacts (the snapshot), by output name.
        pinned_from: the run whose snapshot served it (a replay, ``--data-from``); ``None`` when it
            read its source.
    """

    step: str
    version: str
    step_run: StepRunRecord
    outputs: dict[str, ArtifactRecord]
    pinned_from: str | None


def is_source_step(step: BaseStep) -> bool:
    """Whether a step reads external data (its class defines ``source_version``, as datasources do)."""
    return type(step).source_version is not BaseStep.source_version


def short_version(version: str) -> str:
    """``xxh3-128:1a2b3c4d5e6f``: a data version cut to 12 hex digits, as listings show it."""
    algorithm, _, digest = version.rpartition(":")
    return f"{algorithm}:{digest[:_SHORT_HEX]}" if algorithm else version[:_SHORT_HEX]


def recorded_sources(stores: Stores, run_id: str) -> dict[str, SourceRead]:
    """The source steps of run ``run_id`` that finished, by step name, with their versions and snapshots."""
    records = [
        record
        for record in stores.metadata.step_runs(run_id)
        if record.status in SUCCEEDED_STEP and "source" in (record.cache_components or {})
    ]
    if not records:
        return {}
    outputs = stores.metadata.run_outputs(run_id, [record.name for record in records])
    reads = {}
    for record in records:
        components = record.cache_components or {}
        pinned = components.get("pinned")
        reads[record.name] = SourceRead(
            step=record.name,
            version=str(components["source"]),
            step_run=record,
            outputs={output: artifact for (step, output), artifact in outputs.items() if step == record.name},
            pinned_from=str(pinned["run"]) if isinstance(pinned, dict) else None,
        )
    return reads


def replay_pins(stores: Stores, run_id: str, spec: RunSpec) -> dict[str, DataPin]:
    """Pins for replaying run ``run_id``'s spec: every source step it read is served from its snapshot."""
    pins = dict(spec.data_from)
    for name, read in recorded_sources(stores, run_id).items():
        if name in spec.steps:
            pins[name] = DataPin(run=run_id, step=name, version=read.version)
    return pins


def pins_from_run(stores: Stores, run_id: str, source_steps: Sequence[str]) -> dict[str, DataPin]:
    """Pins serving ``source_steps`` (of a new spec) from the data run ``run_id`` read (``--data-from``).

    Steps are matched by name; a pipeline with one source step also matches a run with one under
    another name.

    Raises:
        MetadataStoreError: no such run.
        ConfigError: the pipeline reads no source, or the run recorded no data for one of its source steps.
    """
    run = stores.metadata.get_run(run_id)
    if not source_steps:
        raise ConfigError(f"--data-from {run.id}: this pipeline has no datasource step, so there is no data to pin")
    recorded = recorded_sources(stores, run.id)
    if not recorded:
        raise ConfigError(
            f"--data-from {run.id}: that run recorded no data version (none of its datasource steps finished); "
            "pick a run that read data ('zen datasources list' shows them)"
        )
    pairs = {name: name for name in source_steps if name in recorded}
    if not pairs and len(source_steps) == 1 and len(recorded) == 1:
        pairs = {source_steps[0]: next(iter(recorded))}
    missing = [name for name in source_steps if name not in pairs]
    if missing:
        raise ConfigError(
            f"--data-from {run.id}: run {run.id} recorded no data for step '{missing[0]}' (its datasource steps: "
            f"{', '.join(recorded)}); name the step as in that run, or leave --data-from out"
        )
    return {name: DataPin(run=run.id, step=step, version=recorded[step].version) for name, step in pairs.items()}


def snapshot(stores: Stores, pin: DataPin, step_name: str, outputs: Sequence[str] = ()) -> SourceRead:
    """The recorded snapshot ``pin`` names, checked present and intact (the cache's cheap checks).

    Raises:
        ConfigError: the run or its record of the step is not in this metadata store, the snapshot
            lacks an output the step declares, or its artifacts are gone or damaged. Never falls
            back to reading the source: the message offers ``--refresh-data`` for that.
    """
    refresh = "re-run with --refresh-data to read the source anew"
    if stores.metadata.find_run(pin.run) is None:
        raise ConfigError(
            f"step '{step_name}' is pinned to the data of run {pin.run}, which is not in this metadata store; {refresh}"
        )
    read = recorded_sources(stores, pin.run).get(pin.step)
    if read is None or read.version != pin.version:
        raise ConfigError(
            f"step '{step_name}' is pinned to data version {short_version(pin.version)} of run {pin.run}, but that "
            f"run recorded no such data for step '{pin.step}'; {refresh}"
        )
    lacking = [output for output in outputs if output not in read.outputs]
    if lacking:
        raise ConfigError(
            f"step '{step_name}' is pinned to run {pin.run}'s step '{pin.step}', which has no output "
            f"'{lacking[0]}' (it has: {', '.join(read.outputs) or 'none'}); {refresh}"
        )
    damaged = damaged_output(read.outputs, stores)
    if damaged is not None:
        output, artifact, why = damaged
        raise ConfigError(
            f"the snapshot of data version {short_version(pin.version)} (run {pin.run}, step '{pin.step}') is gone "
            f"from the artifact store: its output '{output}' (artifact #{artifact.id} at {artifact.uri}) is {why}; "
            f"{refresh}"
        )
    return read


def serve_pinned(spec: RunSpec, step_name: str, step_run_id: int, stores: Stores) -> str:
    """Finish a pinned step with its snapshot's artifacts, recorded ``cached`` from the run that read it.

    Raises:
        ConfigError: the snapshot is gone or damaged (see ``snapshot``).
    """
    pin = spec.data_from[step_name]
    read = snapshot(stores, pin, step_name, list(spec.steps[step_name].outputs))
    stores.metadata.finish_step(
        step_run_id,
        status=StepStatus.CACHED,
        inputs={},
        outputs={name: read.outputs[name] for name in spec.steps[step_name].outputs} or read.outputs,
        metrics=stores.metadata.step_metrics(read.step_run.id),
        cached_from_id=read.step_run.id,
    )
    return StepStatus.CACHED


def previous_read(stores: Stores, pipeline: str, read: SourceRead) -> SourceRead | None:
    """The newest earlier read of the same source step in ``pipeline`` by another run, or ``None``."""
    for record, _pipeline in stores.metadata.source_step_runs(limit=50, pipeline=pipeline):
        if record.name == read.step and record.id < read.step_run.id and record.run_id != read.step_run.run_id:
            return recorded_sources(stores, record.run_id).get(read.step)
    return None


def data_notes(stores: Stores, run_id: str, pipeline: str, spec: RunSpec, *, compare_with: str | None) -> list[str]:
    """One line per source step of a finished run: where its data came from and whether it is new.

    ``compare_with``: the run whose data versions to compare with (a replay with ``--refresh-data``);
    ``None`` compares a source step with its previous read in the pipeline, and says only what is new.
    """
    notes = []
    earlier = recorded_sources(stores, compare_with) if compare_with else {}
    for name, read in recorded_sources(stores, run_id).items():
        pin = spec.data_from.get(name)
        if pin is not None:
            notes.append(f"{name}: pinned to data version {short_version(pin.version)} (run {pin.run})")
            continue
        before = earlier.get(name) if compare_with else previous_read(stores, pipeline, read)
        note = _compared(name, read, before, compare_with)
        if note:
            notes.append(note)
    return notes


def _compared(name: str, read: SourceRead, before: SourceRead | None, compare_with: str | None) -> str | None:
    version = short_version(read.version)
    if before is None:
        return f"{name}: read data version {version} (run {compare_with} recorded none)" if compare_with else None
    run = before.step_run.run_id
    if before.version == read.version:
        return f"{name}: data version {version} unchanged since run {run}" if compare_with else None
    if before.version.split(":", 1)[0] != read.version.split(":", 1)[0]:
        return (
            f"{name}: data version {version}; run {run} recorded {short_version(before.version)}, hashed by an "
            "older zenml with another algorithm, so whether the data changed is not known"
        )
    return f"{name}: new data version {version} (run {run} read {short_version(before.version)})"


@dataclass(frozen=True)
class DataVersion:
    """One version of the data a datasource step read, across the runs that used it.

    Attributes:
        pipeline: the pipeline of the datasource step.
        step: the datasource step's name.
        source: what it read (path, query; credentials redacted), as its newest read recorded it.
        version: the data version (content hash).
        runs: the runs that used it, oldest first (replays served from a snapshot included).
        snapshot: the output artifacts of its newest read (the ingested data), by output name.
    """

    pipeline: str
    step: str
    source: str
    version: str
    runs: list[str]
    snapshot: dict[str, ArtifactRecord]

    @property
    def datasource(self) -> str:
        """``pipeline/step``: the datasource's name in ``zen datasources``."""
        return f"{self.pipeline}/{self.step}"


def data_versions(stores: Stores, pipeline: str | None = None) -> list[DataVersion]:
    """Every data version each datasource step read, by datasource, newest version (last used) first."""
    grouped: dict[tuple[str, str, str], list[StepRunRecord]] = {}
    for record, pipeline_name in stores.metadata.source_step_runs(limit=None, pipeline=pipeline):
        version = str((record.cache_components or {})["source"])
        grouped.setdefault((pipeline_name, record.name, version), []).append(record)  # newest first
    versions = []
    for (pipeline_name, step, version), records in grouped.items():
        newest = records[0]
        versions.append(
            DataVersion(
                pipeline=pipeline_name,
                step=step,
                source=_describe(newest.params),
                version=version,
                runs=list(dict.fromkeys(record.run_id for record in reversed(records))),
                snapshot=stores.metadata.step_artifacts(newest.id, "output"),
            )
        )
    return versions


def _describe(params: dict[str, object]) -> str:
    """What a datasource read, from its recorded parameters (never with a password: see ``redact_url``)."""
    from zenml.utils.redact import redact_url

    if "query" in params:
        return f"{redact_url(str(params.get('url', '')))} :: {params['query']}"
    return str(params.get("path") or params.get("snapshot") or "")


def find_data_version(stores: Stores, name_or_version: str) -> DataVersion:
    """A datasource's newest version (``pipeline/step``, or a step or pipeline name naming one), or a version.

    A version may be given whole or by a prefix of its hex digits, with or without ``xxh3-128:``.

    Raises:
        ConfigError: nothing matches, or a name matches several datasources.
    """
    versions = data_versions(stores)
    by_name = [v for v in versions if name_or_version in (v.datasource, v.step, v.pipeline)]
    datasources = list(dict.fromkeys(v.datasource for v in by_name))
    if len(datasources) > 1:
        raise ConfigError(
            f"'{name_or_version}' names several datasources ({', '.join(datasources)}); give one as PIPELINE/STEP"
        )
    if by_name:
        return by_name[0]  # data_versions lists the version used last first
    digits = name_or_version.split(":", 1)[-1]
    matches = [v for v in versions if v.version == name_or_version or v.version.split(":", 1)[-1].startswith(digits)]
    if digits and matches and len({v.version for v in matches}) == 1:
        return matches[0]
    if matches:
        raise ConfigError(f"version prefix '{name_or_version}' matches several data versions; give more digits")
    raise ConfigError(
        f"no datasource or data version '{name_or_version}' is recorded; 'zen datasources list' shows them"
    )


def replay_data(
    old: RunSpec, recorded: str | None, stores: Stores, *, refresh_data: bool, data_from: str | None
) -> dict[str, DataPin]:
    """The pins of a replay of ``old`` (run ``recorded``'s spec, or ``None``): that run's data, none, or another run's.

    Raises:
        ConfigError: both ``refresh_data`` and ``data_from``; or see ``pins_from_run``.
    """
    if refresh_data and data_from is not None:
        raise ConfigError(
            "--refresh-data and --data-from cannot be combined: read the sources anew, or another run's data"
        )
    if refresh_data:
        return {}
    if data_from is not None:
        add_code_paths(old, stores.project_root)
        sources = [name for name, step_spec in old.steps.items() if is_source_step(load_step(name, step_spec))]
        return pins_from_run(stores, data_from, sources)
    return replay_pins(stores, recorded, old) if recorded is not None else dict(old.data_from)


def check_pins(spec: RunSpec, stores: Stores, done: frozenset[str] = frozenset()) -> None:
    """Every pinned snapshot a run will serve (steps not in ``done``) is present and intact; else ``ConfigError``."""
    for name, pin in spec.data_from.items():
        if name not in done:
            snapshot(stores, pin, name, list(spec.steps[name].outputs))


def check_sources(spec: RunSpec, source: str) -> None:
    """Source steps that will read their source can (the file exists, …); else ``ConfigError`` naming ``source``."""
    for name, step_spec in spec.steps.items():
        if name in spec.data_from:
            continue
        step = load_step(name, step_spec)
        if is_source_step(step):
            try:
                step.preflight()
            except ConfigError as exc:
                raise ConfigError(f"{source}: step '{name}': {exc}") from exc
