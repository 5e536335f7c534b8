"""``TorchDistributedTraining``: real multi-process DDP through PyTorch's elastic launcher.

Every test that starts processes has a timeout and proves that none of them is left: the test
tags its environment, every launcher and rank inherits the tag, and afterwards no live process
may carry it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zenml.backends.training import TorchDistributedTraining, TrainingContext
from zenml.backends.training.local import cuda_available
from zenml.backends.training.torch_distributed import free_port
from zenml.exceptions import BackendError, ConfigError
from zenml.registry import resolve_backend
from zenml.steps.trainer import PyTorchBaseTrainer

pytestmark = [
    pytest.mark.torch,
    pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="leftover processes are found through /proc"),
]
torch = pytest.importorskip(
    "torch", reason="TorchDistributedTraining needs the torch extra: pip install 'zenml[torch]'"
)

TAG = "ZEN_TEST_PROCESS_TAG"
ROWS = 200


# -- leftover processes ------------------------------------------------------------------------------


def tagged_processes(tag: str) -> list[int]:
    """Live processes (not this one) whose environment carries ``TAG=tag``."""
    marker = f"{TAG}={tag}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            environ = Path("/proc", entry, "environ").read_bytes()
        except OSError:
            continue  # gone meanwhile, or not ours
        if marker in environ.split(b"\0"):
            found.append(int(entry))
    return found


def assert_no_processes_left(tag: str, wait: float = 10.0) -> None:
    deadline = time.monotonic() + wait
    while tagged_processes(tag) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert tagged_processes(tag) == [], "processes of the launch survived it"


@pytest.fixture
def process_tag(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A tag in this test's environment that every process it starts inherits; survivors are killed."""
    tag = uuid.uuid4().hex
    monkeypatch.setenv(TAG, tag)
    yield tag
    for pid in tagged_processes(tag):
        try:
            os.kill(pid, 9)
        except OSError:
            pass


# -- training functions that cross the process boundary (module level: picklable) --------------------


@dataclass(frozen=True)
class ReportContext:
    """Writes what each rank saw into ``folder``; returns it."""

    folder: str

    def __call__(self, context: TrainingContext) -> dict[str, Any]:
        seen = {
            "rank": context.rank,
            "world_size": context.world_size,
            "local_rank": context.local_rank,
            "device": context.device,
            "distribution": context.distribution,
            "primary": context.is_primary,
            "pid": os.getpid(),
            "omp": os.environ.get("OMP_NUM_THREADS"),
        }
        Path(self.folder, f"rank{context.rank}.json").write_text(json.dumps(seen))
        return seen


@dataclass(frozen=True)
class FailOnRank:
    """Rank ``rank`` raises ``error``; the others wait to be stopped."""

    rank: int
    error: str

    def __call__(self, context: TrainingContext) -> None:
        if context.rank == self.rank:
            raise (ConfigError if self.error == "config" else ValueError)(f"bad shard on rank {context.rank}")
        time.sleep(120)


def sleep_forever(context: TrainingContext) -> None:
    time.sleep(3600)


def rank_of(context: TrainingContext) -> tuple[int, int]:
    return context.rank, context.world_size


class ReplicaTrainer(PyTorchBaseTrainer):
    """A small network whose every rank writes a checksum of its final weights and the rows it trained on."""

    def __init__(
        self, checksum_dir: str = "", epochs: int = 8, lr: float = 0.02, batch_size: int = 16, seed: int = 0
    ) -> None:
        super().__init__(epochs=epochs, lr=lr, batch_size=batch_size, seed=seed)
        self.checksum_dir = checksum_dir

    def model_fn(self, n_features: int, n_outputs: int) -> Any:
        return torch.nn.Sequential(torch.nn.Linear(n_features, 8), torch.nn.ReLU(), torch.nn.Linear(8, n_outputs))

    def on_train_start(self, *, model: Any, training: Any, context: Any) -> None:
        self.context_, self.rows_ = context, 0

    def train_step(self, *, model: Any, features: Any, labels: Any, loss_fn: Any, optimizer: Any) -> float:
        self.rows_ += len(features)
        return super().train_step(model=model, features=features, labels=labels, loss_fn=loss_fn, optimizer=optimizer)

    def on_train_end(self, *, model: Any, history: dict[str, list[float]]) -> None:
        report = {
            "rank": self.context_.rank,
            "world_size": self.context_.world_size,
            "pid": os.getpid(),
            "device": self.context_.device,
            "sha256": checksum(model.state_dict()),
            "rows_per_epoch": self.rows_ / self.epochs,
        }
        Path(self.checksum_dir, f"rank{self.context_.rank}.json").write_text(json.dumps(report))


def checksum(state: dict[str, Any]) -> str:
    return hashlib.sha256(b"".join(tensor.detach().cpu().numpy().tobytes() for tensor in state.values())).hexdigest()


# -- data and pipeline -------------------------------------------------------------------------------------


def write_table(path: Path) -> None:
    """A binary label that is linearly separable in ``x1 - x2``."""
    rng = np.random.default_rng(7)
    x1, x2, x3 = rng.normal(size=(3, ROWS))
    label = np.where(x1 - x2 > 0, "yes", "no")
    lines = ["x1,x2,x3,label", *(f"{a:.5f},{b:.5f},{c:.5f},{y}" for a, b, c, y in zip(x1, x2, x3, label, strict=True))]
    path.write_text("\n".join(lines) + "\n")


FLOW = '''\
"""A pipeline for the CLI test; its trainer subclass is imported again by every rank."""

import os
from pathlib import Path

from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit
from zenml.steps.trainer import PyTorchFeedForwardTrainer


class RankLoggingTrainer(PyTorchFeedForwardTrainer):
    def on_train_start(self, *, model, training, context):
        Path("ranks").mkdir(exist_ok=True)
        Path("ranks", str(context.rank)).write_text(str(os.getpid()))


ddp = SimplePipeline(name="ddp_cli")
ddp.add_datasource(CSVDatasource(path="data.csv"))
ddp.add_split(RandomSplit(ratios={"train": 0.75, "eval": 0.25}, seed=1))
ddp.add_preprocessor(StandardPreprocessor(labels=["label"]))
ddp.add_trainer(RankLoggingTrainer(hidden_layers=[8], epochs=8, lr=0.02, batch_size=16))
'''


def ddp_pipeline(trainer: Any) -> Any:
    from zenml.datasources import CSVDatasource
    from zenml.pipelines import SimplePipeline
    from zenml.steps.preprocessor import StandardPreprocessor
    from zenml.steps.split import RandomSplit

    pipeline = SimplePipeline(name="ddp")
    pipeline.add_datasource(CSVDatasource(path="data.csv"))
    pipeline.add_split(RandomSplit(ratios={"train": 0.75, "eval": 0.25}, seed=1))
    pipeline.add_preprocessor(StandardPreprocessor(labels=["label"]))
    pipeline.add_trainer(trainer)
    return pipeline


# -- parameters (nothing starts) ----------------------------------------------------------------------------


def test_parameters_round_trip_and_the_registry_name() -> None:
    backend = TorchDistributedTraining(
        nproc_per_node=3, nnodes=2, rdzv_endpoint="node0:29400", max_restarts=1, timeout=30
    )
    assert TorchDistributedTraining.from_config(backend.to_config()) == backend
    assert backend.clone() == backend
    assert resolve_backend("training", "torch") == backend.config_type()
    assert TorchDistributedTraining().get_params() == {
        "nproc_per_node": 2,
        "nnodes": 1,
        "rdzv_endpoint": None,
        "backend": "gloo",
        "max_restarts": 0,
        "timeout": 600.0,
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"nproc_per_node": 0}, "nproc_per_node must be at least 1, got 0"),
        ({"nproc_per_node": 1000}, "nproc_per_node=1000 is more than one node can start (at most 64 processes)"),
        ({"nnodes": 0}, "nnodes must be at least 1, got 0"),
        ({"backend": "mpi"}, "backend 'mpi' is unknown; use one of gloo, nccl"),
        ({"nnodes": 2}, "nnodes=2 needs rdzv_endpoint='HOST:PORT'"),
        ({"rdzv_endpoint": "node0"}, "rdzv_endpoint 'node0' must look like HOST:PORT"),
        ({"rdzv_endpoint": "node0:70000"}, "rdzv_endpoint 'node0:70000' must look like HOST:PORT"),
        ({"max_restarts": -1}, "max_restarts must be 0 or more, got -1"),
        ({"timeout": 0}, "timeout must be positive seconds, got 0"),
        ({"nproc_per_node": "2"}, "parameter 'nproc_per_node' of TorchDistributedTraining must be int"),
    ],
)
def test_bad_parameters_are_config_errors(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TorchDistributedTraining.from_config({"type": TorchDistributedTraining().config_type(), "params": params})
    with pytest.raises(ConfigError, match="TorchDistributedTraining"):
        TorchDistributedTraining(**params).launch(rank_of)


def test_partial_updates_are_checked_against_the_other_parameters() -> None:
    backend = TorchDistributedTraining(rdzv_endpoint="node0:29400")
    assert backend.set_params(nnodes=4).nnodes == 4
    with pytest.raises(ConfigError, match="nnodes=2 needs rdzv_endpoint"):
        TorchDistributedTraining().set_params(nnodes=2)


@pytest.mark.skipif(cuda_available(), reason="this machine has CUDA")
def test_nccl_without_cuda_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"backend='nccl'\) needs CUDA, and no CUDA device is available"):
        TorchDistributedTraining(backend="nccl").validate()


# -- launching -------------------------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_more_workers_than_a_node_can_start_fails_before_anything_runs(
    repo: object, tmp_path: Path, process_tag: str
) -> None:
    write_table(tmp_path / "data.csv")
    started = time.monotonic()
    with pytest.raises(ConfigError, match="nproc_per_node=500 is more than one node can start"):
        ddp_pipeline(ReplicaTrainer(checksum_dir=str(tmp_path))).run(
            training=TorchDistributedTraining(nproc_per_node=500)
        )
    assert time.monotonic() - started < 30
    assert not list(tmp_path.glob("rank*.json"))
    with pytest.raises(ConfigError, match="must be picklable"):
        TorchDistributedTraining().launch(lambda context: context.rank)
    assert_no_processes_left(process_tag, wait=0)


@pytest.mark.timeout(180)
def test_every_rank_gets_its_context_and_rank_zero_answers(tmp_path: Path, process_tag: str) -> None:
    result = TorchDistributedTraining(nproc_per_node=2, timeout=150).launch(ReportContext(str(tmp_path)))
    seen = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    assert result == seen[0]
    for rank, ranked in enumerate(seen):
        assert (ranked["rank"], ranked["local_rank"], ranked["world_size"], ranked["primary"]) == (
            rank,
            rank,
            2,
            rank == 0,
        )
        assert ranked["device"] == "cpu"
        assert ranked["distribution"] == {"framework": "torch", "backend": "gloo"}
    assert len({seen[0]["pid"], seen[1]["pid"], os.getpid()}) == 3, "each rank is its own process"
    if "OMP_NUM_THREADS" not in os.environ:
        assert seen[0]["omp"] == seen[1]["omp"] == "1", "ranks share the cores, as with torchrun"
    assert_no_processes_left(process_tag)


@pytest.mark.timeout(180)
@pytest.mark.parametrize(
    ("error", "raised", "message"),
    [
        ("value", BackendError, "TorchDistributedTraining: training rank 1 failed: ValueError: bad shard on rank 1"),
        ("config", ConfigError, r"bad shard on rank 1 \(on training rank 1\)"),
    ],
)
def test_a_failing_rank_stops_the_others_and_its_error_is_raised(
    process_tag: str, error: str, raised: type, message: str
) -> None:
    started = time.monotonic()
    with pytest.raises(raised, match=message):
        TorchDistributedTraining(nproc_per_node=2, timeout=150).launch(FailOnRank(rank=1, error=error))
    assert time.monotonic() - started < 100, "rank 0 (sleeping 120 s) was stopped, not waited for"
    assert_no_processes_left(process_tag)


@pytest.mark.timeout(120)
def test_a_launch_past_its_timeout_is_stopped(process_tag: str) -> None:
    started = time.monotonic()
    stopped = r"did not finish within timeout=6 s, so it was stopped with its training processes \(2 on this node\)"
    with pytest.raises(BackendError, match=stopped):
        TorchDistributedTraining(nproc_per_node=2, timeout=6).launch(sleep_forever)
    assert time.monotonic() - started < 6 + 30
    assert_no_processes_left(process_tag)


@pytest.mark.timeout(120)
def test_waiting_for_nodes_that_never_join_times_out(process_tag: str) -> None:
    backend = TorchDistributedTraining(nproc_per_node=1, nnodes=2, rdzv_endpoint=f"127.0.0.1:{free_port()}", timeout=6)
    with pytest.raises(BackendError, match="are all 2 nodes running the same command with rdzv_endpoint=127.0.0.1:"):
        backend.launch(rank_of)
    assert_no_processes_left(process_tag)


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_two_nodes_meet_at_the_rendezvous(process_tag: str) -> None:
    """Two launches on this machine play two nodes of one job (as the same command on two hosts would)."""
    endpoint = f"127.0.0.1:{free_port()}"
    outcomes: list[Any] = [None, None]

    def node(index: int) -> None:
        try:
            outcomes[index] = TorchDistributedTraining(
                nproc_per_node=1, nnodes=2, rdzv_endpoint=endpoint, timeout=100
            ).launch(rank_of)
        except BackendError as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=node, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answers = [o for o in outcomes if not isinstance(o, Exception)]
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert answers == [(0, 2)], outcomes
    assert len(errors) == 1 and "global rank 0 ran on another node (this node ran ranks [1])" in str(errors[0])
    assert_no_processes_left(process_tag)


# -- through a pipeline ----------------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_two_ranks_train_one_model_in_a_pipeline(repo: object, tmp_path: Path, process_tag: str) -> None:
    write_table(tmp_path / "data.csv")
    sums = tmp_path / "sums"
    sums.mkdir()
    run = ddp_pipeline(ReplicaTrainer(checksum_dir=str(sums))).run(
        training=TorchDistributedTraining(nproc_per_node=2, timeout=240)
    )
    reports = [json.loads((sums / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    assert [(r["rank"], r["world_size"], r["device"]) for r in reports] == [(0, 2, "cpu"), (1, 2, "cpu")]
    assert reports[0]["pid"] != reports[1]["pid"] and os.getpid() not in (reports[0]["pid"], reports[1]["pid"])
    assert reports[0]["sha256"] == reports[1]["sha256"], "DDP keeps the replicas identical"
    train_rows = run.steps["preprocessor"].outputs["data"].read().to_table("train").num_rows
    assert reports[0]["rows_per_epoch"] == reports[1]["rows_per_epoch"] == math.ceil(train_rows / 2), "data is sharded"

    trainer = run.steps["trainer"]
    assert checksum(trainer.outputs["model"].read().state_dict()) == reports[0]["sha256"], "rank 0 saved the replica"
    history = trainer.outputs["history"].read()
    assert history["eval_accuracy"][-1] >= 0.9 and history["loss"][-1] < history["loss"][0]
    assert trainer.outputs["predictions"].read().to_table("eval").num_rows > 0
    assert (run.spec.backends.training.name, run.spec.backends.training.params["nproc_per_node"]) == ("torch", 2)
    assert_no_processes_left(process_tag)


@pytest.mark.timeout(300)
def test_cli_training_torch_with_backend_options(
    repo: object, tmp_path: Path, process_tag: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from zenml.cli.app import main
    from zenml.repository import Repository

    monkeypatch.setattr(sys, "path", list(sys.path))  # `zen run file.py:x` puts the folder on sys.path
    write_table(tmp_path / "data.csv")
    module = f"flow_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(FLOW)
    try:
        code = main(
            [
                "run",
                f"{module}.py:ddp",
                "--training",
                "torch",
                "--backend-opt",
                "training.nproc_per_node=2",
                "--backend-opt",
                "training.timeout=240",
                "--quiet",
            ]
        )
    finally:
        sys.modules.pop(module, None)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "completed" in out
    pids = {int((tmp_path / "ranks" / str(rank)).read_text()) for rank in (0, 1)}
    assert len(pids) == 2 and os.getpid() not in pids, "the user's trainer class ran in two rank processes"
    run = Repository(tmp_path).runs(pipeline="ddp_cli")[0]
    assert run.spec.backends.training.name == "torch"
    assert run.spec.backends.training.params == {"nproc_per_node": 2, "timeout": 240}
    assert run.steps["trainer"].outputs["history"].read()["eval_accuracy"][-1] >= 0.9
    assert_no_processes_left(process_tag)
