"""Eight processes each run a 20-step pipeline against one store at once: nothing lost, nothing doubled."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from zenml.testing.flows import chain_source

PROCESSES = 8
STEPS = 20

FLOW = chain_source("chain20", STEPS)


def _run_concurrently(root: Path, metadata_url: str) -> list[subprocess.CompletedProcess[str]]:
    zen = str(Path(sys.executable).parent / "zen")
    env = {**os.environ, "ZEN_METADATA_STORE": metadata_url, "ZEN_ARTIFACT_STORE": str(root / "shared-artifacts")}
    procs = [
        subprocess.Popen([zen, "run", "flow_chain.py:chain20", "--no-cache", "-q"], cwd=root, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(PROCESSES)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


@pytest.mark.parametrize("engine", ["sqlite", "mysql", "postgres"])
def test_eight_processes_twenty_steps_each(engine: str, repo: object, tmp_path: Path,
                                           request: pytest.FixtureRequest) -> None:
    from zenml.metadata import SQLMetadataStore

    url = f"sqlite:///{tmp_path / 'shared.db'}" if engine == "sqlite" else str(
        request.getfixturevalue("mysql_url" if engine == "mysql" else "postgres_url"))
    (tmp_path / "flow_chain.py").write_text(FLOW)
    SQLMetadataStore(url).close()  # schema first, as `zen init` would for a team store

    results = _run_concurrently(tmp_path, url)

    failures = [r.stderr for r in results if r.returncode != 0]
    assert not failures, failures[0]
    assert not any("locked" in r.stderr.lower() for r in results)
    store = SQLMetadataStore(url)
    runs = store.runs(pipeline="chain20")
    assert len(runs) == PROCESSES
    assert len({run.id for run in runs}) == PROCESSES
    assert all(run.status == "completed" for run in runs)
    artifact_uris = set()
    for run in runs:
        steps = store.step_runs(run.id)
        assert len(steps) == STEPS
        assert {s.status for s in steps} == {"completed"}
        outputs = store.run_outputs(run.id)
        assert len(outputs) == STEPS
        artifact_uris |= {record.uri for record in outputs.values()}
    assert len(artifact_uris) == PROCESSES * STEPS
    assert store.pipelines()[0].run_count == PROCESSES
    store.close()
