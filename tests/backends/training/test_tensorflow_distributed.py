"""``TensorflowDistributedTraining``: 2 real workers on loopback ports, mirrored, failures, timeouts, bad input.

Every test that starts processes has a timeout and checks that none of them is left behind.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import multiprocessing
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zenml import pipeline, step
from zenml.backends.training import TensorflowDistributedTraining, TrainingContext
from zenml.exceptions import BackendError, ConfigError
from zenml.registry import resolve_backend
from zenml.steps import StepContext
from zenml.steps.trainer.data import TrainingData
from zenml.steps.trainer.tensorflow_trainer import KerasModel, TensorflowFeedForwardTrainer

pytestmark = [
    pytest.mark.tensorflow,
    pytest.mark.skipif(
        importlib.util.find_spec("tensorflow") is None,
        reason="TensorFlow is not installed (pip install 'zenml[tensorflow]')",
    ),
]

BACKEND_TYPE = "zenml.backends.training.tensorflow.TensorflowDistributedTraining"


# -- process bookkeeping -----------------------------------------------------------------------------


def _children() -> set[int]:
    """Live child processes of this one (Linux /proc), not counting multiprocessing's resource tracker."""
    found = {child.pid for child in multiprocessing.active_children() if child.pid is not None}
    proc = Path("/proc")
    if proc.is_dir():
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == os.getpid() and fields[0] != "Z" and b"resource_tracker" not in cmdline:
                found.add(int(entry.name))
    return found


@pytest.fixture
def no_leftover_processes() -> Iterator[None]:
    """Fail the test if it leaves a child process running."""
    before = _children()
    yield
    deadline = time.monotonic() + 5  # a finished child may take a moment to be reaped
    while _children() - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _children() - before == set(), "worker processes were left running"


# -- jobs the workers run (module level: the spawned workers import them by name) --------------------


def _training(seed: int = 0) -> TrainingData:
    rng = np.random.default_rng(seed)

    def split(rows: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.normal(size=(rows, 4)).astype(np.float32)
        return x, (x[:, 0] - x[:, 1] > 0).astype(np.int64)

    return TrainingData(
        features=["a", "b", "c", "d"],
        label="y",
        task="binary",
        classes=["0", "1"],
        arrays={"train": split(301), "eval": split(120)},
    )


class ChecksumTrainer(TensorflowFeedForwardTrainer):
    """Writes a checksum of its final weights per rank into ``$ZEN_TEST_CHECKSUMS`` (set by the test)."""

    def on_train_start(self, *, model: Any, training: TrainingData, context: Any) -> None:
        self.rank_ = context.rank
        self.replicas_ = context.world_size

    def on_train_end(self, *, model: Any, history: dict[str, list[float]]) -> None:
        folder = Path(os.environ["ZEN_TEST_CHECKSUMS"])
        (folder / f"rank-{self.rank_}-of-{self.replicas_}.sha256").write_text(_weights_digest(model.get_weights()))


class TrainJob:
    """Train ``ChecksumTrainer`` on the generated data; rank 0 saves into ``workdir``."""

    def __init__(self, workdir: str, epochs: int = 8) -> None:
        self.workdir = workdir
        self.epochs = epochs

    def __call__(self, context: TrainingContext) -> dict[str, Any]:
        trainer = ChecksumTrainer(hidden_layers=[16], epochs=self.epochs, lr=0.02, batch_size=16, seed=1)
        history = trainer.train(_training(), context, self.workdir)
        return {"history": history, "context": [context.rank, context.world_size, context.distribution]}


class ProbeJob:
    """Cheap jobs (no TensorFlow import) that misbehave on purpose."""

    def __init__(self, mode: str, folder: str = "") -> None:
        self.mode = mode
        self.folder = folder

    def __call__(self, context: TrainingContext) -> Any:
        if self.mode == "describe":
            described = {
                "rank": context.rank,
                "world_size": context.world_size,
                "local_rank": context.local_rank,
                "device": context.device,
                "distribution": context.distribution,
                "tf_config": json.loads(os.environ["TF_CONFIG"]),
                "pid": os.getpid(),
            }
            Path(self.folder, f"rank-{context.rank}.json").write_text(json.dumps(described))
            return described
        if self.mode == "fail_rank_1":
            if context.rank == 1:
                raise RuntimeError("diverged: loss is nan")
            time.sleep(120)  # rank 0 waits for a peer that will never come (as in a collective)
        if self.mode == "config_error":
            raise ConfigError("MyTrainer.model_fn must return a keras.Model, got str")
        if self.mode == "die_rank_1":
            if context.rank == 1:
                os._exit(7)
            time.sleep(120)
        if self.mode == "hang":
            time.sleep(120)
        return None


# -- the real thing: 2 workers train one model ---------------------------------------------------------


def _write_csv(path: Path, rows: int = 300) -> Path:
    x = np.random.default_rng(0).normal(size=(rows, 3))
    lines = ["x1,x2,x3,answer", *(f"{a:.6f},{b:.6f},{c:.6f},{'yes' if a - b > 0 else 'no'}" for a, b, c in x)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _weights_digest(weights: list[np.ndarray]) -> str:
    return hashlib.sha256(b"".join(np.ascontiguousarray(w).tobytes() for w in weights)).hexdigest()


@pytest.mark.timeout(300)
def test_two_workers_train_identical_replicas_and_the_model_learns(
    repo: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_leftover_processes: None
) -> None:
    from zenml.datasources import CSVDatasource
    from zenml.pipelines import SimplePipeline
    from zenml.steps.preprocessor import StandardPreprocessor
    from zenml.steps.split import RandomSplit

    checksums = tmp_path / "checksums"
    checksums.mkdir()
    monkeypatch.setenv("ZEN_TEST_CHECKSUMS", str(checksums))  # inherited by the spawned workers
    pipeline = SimplePipeline(name="tf-two-workers")
    pipeline.add_datasource(CSVDatasource(path=str(_write_csv(tmp_path / "data.csv"))))
    pipeline.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=5))
    pipeline.add_preprocessor(StandardPreprocessor(labels=["answer"]))
    pipeline.add_trainer(ChecksumTrainer(hidden_layers=[16], epochs=8, lr=0.02, batch_size=16, seed=1))
    run = pipeline.run(training=TensorflowDistributedTraining(strategy="multi_worker", workers=2, timeout=280))

    assert run.status == "completed"
    digests = {path.name: path.read_text() for path in checksums.iterdir()}
    assert sorted(digests) == ["rank-0-of-2.sha256", "rank-1-of-2.sha256"]
    assert len(set(digests.values())) == 1, "the two replicas ended with different weights"
    outputs = run.steps["trainer"].outputs
    history, model = outputs["history"].read(), outputs["model"].read()
    assert history["epoch"] == [float(e) for e in range(1, 9)]
    assert history["eval_accuracy"][-1] >= 0.9
    assert history["loss"][-1] < history["loss"][0]
    # The chief's artifacts: the stored model is the replicas' model, and its predictions learned.
    assert _weights_digest(model.keras_model.get_weights()) == digests["rank-0-of-2.sha256"]
    table = outputs["predictions"].read().to_table("eval")
    accuracy = np.mean(table.column("prediction").to_numpy() == table.column("answer").to_numpy())
    assert accuracy == pytest.approx(history["eval_accuracy"][-1])


@pytest.mark.timeout(120)
def test_mirrored_strategy_trains_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_leftover_processes: None
) -> None:
    monkeypatch.setenv("ZEN_TEST_CHECKSUMS", str(tmp_path))
    result = TensorflowDistributedTraining(strategy="mirrored").launch(TrainJob(str(tmp_path), epochs=3))
    assert result["context"] == [0, 1, {"framework": "tensorflow", "strategy": "mirrored"}]
    assert len(result["history"]["epoch"]) == 3
    assert (tmp_path / "rank-0-of-1.sha256").exists()
    assert KerasModel(str(tmp_path / "model")).meta["framework"] == "tensorflow"


@pytest.mark.timeout(120)
def test_each_worker_gets_its_tf_config_and_context(tmp_path: Path, no_leftover_processes: None) -> None:
    result = TensorflowDistributedTraining(workers=2, timeout=100).launch(ProbeJob("describe", str(tmp_path)))
    assert result["pid"] != os.getpid()
    described = [json.loads((tmp_path / f"rank-{rank}.json").read_text()) for rank in (0, 1)]
    cluster = described[0]["tf_config"]["cluster"]["worker"]
    assert len(set(cluster)) == 2
    assert all(address.startswith("127.0.0.1:") for address in cluster)
    for rank, worker in enumerate(described):
        assert worker["tf_config"] == {"cluster": {"worker": cluster}, "task": {"type": "worker", "index": rank}}
        assert (worker["rank"], worker["world_size"], worker["local_rank"]) == (rank, 2, rank)
        assert worker["distribution"] == {"framework": "tensorflow", "strategy": "multi_worker"}
    assert described[0]["pid"] != described[1]["pid"]


# -- failures: clear errors, no hang, no orphans --------------------------------------------------------


@pytest.mark.timeout(120)
def test_a_failing_worker_stops_all_workers_with_its_error(no_leftover_processes: None) -> None:
    started = time.monotonic()
    with pytest.raises(BackendError, match=r"worker 1 of 2 failed: builtins\.RuntimeError: diverged: loss is nan"):
        TensorflowDistributedTraining(workers=2, timeout=100).launch(ProbeJob("fail_rank_1"))
    assert time.monotonic() - started < 60  # rank 0 was still waiting: it was stopped, not awaited


@pytest.mark.timeout(120)
def test_a_zenml_error_in_a_worker_keeps_its_class(no_leftover_processes: None) -> None:
    with pytest.raises(
        ConfigError,
        match=r"worker [01] of 2 failed: zenml\.exceptions\.ConfigError: MyTrainer\.model_fn must return a keras",
    ):
        TensorflowDistributedTraining(workers=2, timeout=100).launch(ProbeJob("config_error"))


@pytest.mark.timeout(120)
def test_a_worker_that_dies_silently_is_reported(no_leftover_processes: None) -> None:
    with pytest.raises(BackendError, match="worker 1 of 2 exited with code 7 without a result"):
        TensorflowDistributedTraining(workers=2, timeout=100).launch(ProbeJob("die_rank_1"))


@pytest.mark.timeout(120)
def test_the_timeout_stops_the_workers(no_leftover_processes: None) -> None:
    started = time.monotonic()
    with pytest.raises(BackendError, match=r"did not finish within timeout=3s; they were stopped"):
        TensorflowDistributedTraining(workers=2, timeout=3).launch(ProbeJob("hang"))
    assert time.monotonic() - started < 30


# -- bad configuration: refused before anything runs ---------------------------------------------------


def _never_called(context: TrainingContext) -> None:  # pragma: no cover - must not run
    raise AssertionError("the training function ran")


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"workers": 0}, "workers=0 cannot be started: it starts 1 to 16 worker processes"),
        ({"workers": 17}, "workers=17 cannot be started: it starts 1 to 16 worker processes"),
        ({"workers": -2}, "workers=-2 cannot be started"),
        ({"strategy": "parameter_server"}, "strategy 'parameter_server' is unknown; use one of mirrored, multi_worker"),
        ({"timeout": 0}, "timeout must be positive, got 0"),
        ({"workers": "2"}, "parameter 'workers' of TensorflowDistributedTraining must be int"),
    ],
)
def test_bad_settings_are_config_errors_before_anything_starts(
    params: dict[str, Any], message: str, no_leftover_processes: None
) -> None:
    with pytest.raises(ConfigError, match=message):
        TensorflowDistributedTraining.from_config({"type": BACKEND_TYPE, "params": params})
    backend = TensorflowDistributedTraining.__new__(TensorflowDistributedTraining)
    backend.__dict__.update({"strategy": "multi_worker", "workers": 2, "timeout": 600, **params})
    with pytest.raises(ConfigError, match=message):
        backend.launch(_never_called)


def test_a_training_function_that_cannot_be_pickled_is_a_config_error(no_leftover_processes: None) -> None:
    with pytest.raises(ConfigError, match="must be picklable"):
        TensorflowDistributedTraining(workers=2, timeout=30).launch(lambda context: context.rank)


def test_registered_as_tensorflow_and_round_trips() -> None:
    assert resolve_backend("training", "tensorflow") == BACKEND_TYPE
    backend = TensorflowDistributedTraining(strategy="mirrored", workers=4, timeout=30)
    assert backend.to_config() == {
        "type": BACKEND_TYPE,
        "params": {"strategy": "mirrored", "workers": 4, "timeout": 30},
    }
    assert TensorflowDistributedTraining.from_config(backend.to_config()) == backend
    assert TensorflowDistributedTraining().backend_kind == "training"
    assert TensorflowDistributedTraining().get_params() == {"strategy": "multi_worker", "workers": 2, "timeout": 600}


@pytest.mark.parametrize(
    ("reported", "raised"),
    [
        ("zenml.exceptions.ConfigError", ConfigError),  # bad input stays bad input
        ("builtins.ValueError", BackendError),
        ("os.system", BackendError),  # a name from another process is looked up, never imported
        ("not a type", BackendError),
    ],
)
def test_a_worker_failure_keeps_only_zenml_error_classes(reported: str, raised: type[Exception]) -> None:
    from zenml.backends.training.tensorflow import worker_error

    error = worker_error(1, 2, reported, "it broke", "")
    assert type(error) is raised and "worker 1 of 2 failed" in str(error) and "it broke" in str(error)


# -- under the Dask orchestrator: the launching process is a daemon -----------------------------------


@step
def launch_probe(context: StepContext, folder: str = "") -> dict[str, int]:
    """Start the run's training backend from a step (as a trainer step does) with a cheap job."""
    described = context.training.launch(ProbeJob("describe", folder))
    return {"step_pid": os.getpid(), "chief_pid": described["pid"], "world_size": described["world_size"]}


@pipeline
def probe_cluster() -> None:
    launch_probe()


@pytest.mark.dask
@pytest.mark.timeout(180)
def test_workers_start_from_a_dask_worker(repo: object, tmp_path: Path) -> None:
    # a Dask worker process is daemonic: multiprocessing refused it children ("daemonic processes
    # are not allowed to have children"); the workers are plain subprocesses now
    pytest.importorskip("dask.distributed")
    from zenml.backends.orchestrator.dask import DaskOrchestrator

    run = probe_cluster.run(
        orchestrator=DaskOrchestrator(n_workers=1),
        training=TensorflowDistributedTraining(workers=2, timeout=120),
        params={"launch_probe": {"folder": str(tmp_path)}},
        enable_cache=False,
    )
    assert run.status == "completed"
    result = run.steps["launch_probe"].output()
    assert result["world_size"] == 2
    assert len({result["step_pid"], result["chief_pid"], os.getpid()}) == 3
    assert sorted(path.name for path in tmp_path.glob("rank-*.json")) == ["rank-0.json", "rank-1.json"]


@pytest.mark.dask
@pytest.mark.slow
@pytest.mark.timeout(400)
def test_a_tensorflow_trainer_trains_on_two_workers_under_dask(
    repo: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("dask.distributed")
    from zenml.backends.orchestrator.dask import DaskOrchestrator
    from zenml.datasources import CSVDatasource
    from zenml.pipelines import SimplePipeline
    from zenml.steps.preprocessor import StandardPreprocessor
    from zenml.steps.split import RandomSplit

    monkeypatch.setenv("ZEN_TEST_CHECKSUMS", str(tmp_path))  # the Dask workers and their TF workers inherit it
    pipeline = SimplePipeline(name="tf-on-dask")
    pipeline.add_datasource(CSVDatasource(path=str(_write_csv(tmp_path / "data.csv"))))
    pipeline.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=5))
    pipeline.add_preprocessor(StandardPreprocessor(labels=["answer"]))
    pipeline.add_trainer(ChecksumTrainer(hidden_layers=[8], epochs=2, lr=0.02, batch_size=32, seed=1))
    run = pipeline.run(
        orchestrator=DaskOrchestrator(n_workers=1),
        training=TensorflowDistributedTraining(strategy="multi_worker", workers=2, timeout=300),
    )
    assert run.status == "completed"
    assert sorted(path.name for path in tmp_path.glob("rank-*.sha256")) == ["rank-0-of-2.sha256", "rank-1-of-2.sha256"]
    assert run.steps["trainer"].outputs["history"].read()["epoch"] == [1.0, 2.0]
