"""``TorchDistributedTraining``: data-parallel training on several processes/nodes via PyTorch's elastic launcher."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import math
import os
import pickle
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from zenml import exceptions
from zenml.backends.training.base import BaseTrainingBackend, TrainingContext
from zenml.backends.training.local import cuda_available
from zenml.exceptions import BackendError, ConfigError

T = TypeVar("T")
logger = logging.getLogger("zenml")

BACKENDS = ("gloo", "nccl")
#: gloo ranks are whole Python processes (each imports PyTorch); more than this on one node is refused.
MAX_PROCS_PER_NODE = 64
_ENDPOINT = re.compile(r"^(?P<host>[A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>\d{1,5})$")
#: after SIGTERM, how long the launcher and the ranks get to exit before SIGKILL
STOP_GRACE_SECONDS = 5.0
_SETTINGS, _JOB, _OUTCOME = "settings.json", "job.pkl", "outcome.pkl"


class TorchDistributedTraining(BaseTrainingBackend):
    """Multi-process data-parallel training (DDP) through PyTorch's elastic launcher (``torchrun``'s engine).

    ``launch`` starts a launcher process in its own process group, which runs
    ``torch.distributed.launcher.api.elastic_launch`` (c10d rendezvous, ``spawn`` start method).
    It starts ``nproc_per_node`` ranks; each builds its ``TrainingContext`` from ``RANK``,
    ``WORLD_SIZE`` and ``LOCAL_RANK``, and the PyTorch trainers then join the process group
    (``MASTER_ADDR``/``MASTER_PORT`` set by the launcher), wrap the model in
    ``DistributedDataParallel`` and shard the data with a ``DistributedSampler``; rank 0 writes
    the artifacts and its result is returned. When a rank fails, the others are stopped and its
    error is raised here; when ``timeout`` passes, every process of the launch is killed.

    Multi-node: run the *same* command on every node, e.g.
    ``zen run pipeline.py:p --training torch --backend-opt training.nnodes=2
    --backend-opt training.rdzv_endpoint=node0:29400``, or ``pipeline.run(training=
    TorchDistributedTraining(nnodes=2, rdzv_endpoint="node0:29400"))``. ``rdzv_endpoint`` names
    a node every node can reach; the node whose address it is hosts the c10d rendezvous store on
    that port, and the endpoint also names the rendezvous, so one endpoint serves one job at a
    time. Training starts when all ``nnodes`` nodes have joined (each waits at most ``timeout``
    seconds). The nodes need the same code and data; global rank 0 lands on one of them, and the
    run there records the model, predictions and history, while the trainer step on the other
    nodes fails with a ``BackendError`` saying that rank 0 ran on another node.

    Code that the ranks import (custom trainers in a script) is re-imported in each rank, so a
    script that runs a pipeline must guard it with ``if __name__ == "__main__":``.

    Args:
        nproc_per_node: training processes on this node (one per GPU with ``nccl``).
        nnodes: nodes taking part; more than 1 needs ``rdzv_endpoint``.
        rdzv_endpoint: ``host:port`` of the rendezvous (default for one node: a free loopback port).
        backend: ``gloo`` (CPU) or ``nccl`` (CUDA; rank ``i`` uses ``cuda:i``).
        max_restarts: how often the launcher restarts all ranks after a failure.
        timeout: seconds the whole launch may take before it is stopped.

    Examples:
        >>> backend = TorchDistributedTraining(nproc_per_node=2)
        >>> backend.to_config()["params"]["backend"]
        'gloo'
    """

    def __init__(
        self,
        nproc_per_node: int = 2,
        nnodes: int = 1,
        rdzv_endpoint: str | None = None,
        backend: str = "gloo",
        max_restarts: int = 0,
        timeout: float = 600.0,
    ) -> None:
        self.nproc_per_node = nproc_per_node
        self.nnodes = nnodes
        self.rdzv_endpoint = rdzv_endpoint
        self.backend = backend
        self.max_restarts = max_restarts
        self.timeout = timeout

    # -- validation ------------------------------------------------------------------------------

    def check_params(self, params: dict[str, object]) -> None:
        """Also check counts, the backend name, the endpoint and that this machine can start the ranks.

        Raises:
            ConfigError: a bad value, PyTorch missing, ``nccl`` without CUDA, or more ranks than
                this node can start.
        """
        super().check_params(params)
        values = {name: getattr(self, name, spec.default) for name, spec in self.param_specs().items()}
        values.update(params)
        _check_counts(values)
        backend, endpoint = values["backend"], values["rdzv_endpoint"]
        if backend not in BACKENDS:
            raise ConfigError(f"TorchDistributedTraining backend '{backend}' is unknown; "
                              f"use one of {', '.join(BACKENDS)}")
        if isinstance(endpoint, str) and not _valid_endpoint(endpoint):
            raise ConfigError(f"TorchDistributedTraining rdzv_endpoint '{endpoint}' must look like HOST:PORT "
                              "(port 1-65535), e.g. 'node0:29400'")
        if isinstance(values["nnodes"], int) and values["nnodes"] > 1 and not endpoint:
            raise ConfigError(f"TorchDistributedTraining nnodes={values['nnodes']} needs rdzv_endpoint='HOST:PORT' "
                              "(a node every node can reach); run the same command on each node")
        if importlib.util.find_spec("torch") is None:
            raise ConfigError("TorchDistributedTraining needs PyTorch: pip install 'zenml[torch]'")
        if backend == "nccl":
            _check_cuda(values["nproc_per_node"])

    # -- launching -------------------------------------------------------------------------------

    def result_signature(self) -> dict[str, Any]:
        """The world size: it sets the effective batch, so it changes the trained model."""
        return {"world_size": self.nproc_per_node * self.nnodes}

    def launch(self, train_fn: Callable[[TrainingContext], T]) -> T:
        """Run ``train_fn`` on every rank (it must be picklable); return what rank 0 returned.

        Raises:
            BackendError: a rank failed (its error message is included), the launch did not
                finish within ``timeout``, or rank 0 ran on another node.
            ConfigError: a rank raised a ``ConfigError`` (re-raised with the rank named).
        """
        self.validate()
        folder = tempfile.mkdtemp(prefix="zenml-torch-launch-")
        try:
            self._write_request(folder, train_fn)
            logger.info("TorchDistributedTraining: starting %d x %d %s ranks", self.nnodes, self.nproc_per_node,
                        self.backend)
            process = _start_launcher(folder, self.nproc_per_node)
            try:
                self._wait(process)
            finally:
                stop_process_group(process)
            outcome = _read_outcome(folder, process.returncode)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return _result_of(outcome)  # type: ignore[no-any-return]

    def _write_request(self, folder: str, train_fn: Callable[[TrainingContext], Any]) -> None:
        settings = {
            "nproc_per_node": self.nproc_per_node, "nnodes": self.nnodes, "backend": self.backend,
            "rdzv_endpoint": self.rdzv_endpoint or f"127.0.0.1:{free_port()}", "max_restarts": self.max_restarts,
            "run_id": _rendezvous_id(self.nnodes, self.rdzv_endpoint), "log_dir": os.path.join(folder, "logs"),
            "read_timeout": max(60, math.ceil(self.timeout)),
            "sys_path": list(sys.path), "parent_pid": os.getpid(),
        }
        with open(os.path.join(folder, _SETTINGS), "w") as handle:
            json.dump(settings, handle)
        try:
            with open(os.path.join(folder, _JOB), "wb") as handle:
                pickle.dump(train_fn, handle)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise ConfigError(f"TorchDistributedTraining runs the training function in other processes, so it "
                              f"must be picklable (a module-level function or object): {exc}") from exc

    def _wait(self, process: subprocess.Popen[bytes]) -> None:
        try:
            process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            hint = (f"; are all {self.nnodes} nodes running the same command with rdzv_endpoint={self.rdzv_endpoint}?"
                    if self.nnodes > 1 else "")
            raise BackendError(f"TorchDistributedTraining did not finish within timeout={self.timeout:g} s, so it "
                               f"was stopped with its training processes ({self.nproc_per_node} on this node){hint}"
                               ) from None


def _check_counts(values: Mapping[str, Any]) -> None:
    nproc, nnodes = values["nproc_per_node"], values["nnodes"]
    restarts, timeout = values["max_restarts"], values["timeout"]
    if isinstance(nproc, int) and nproc < 1:
        raise ConfigError(f"TorchDistributedTraining nproc_per_node must be at least 1, got {nproc}")
    if isinstance(nproc, int) and nproc > MAX_PROCS_PER_NODE:
        raise ConfigError(f"TorchDistributedTraining nproc_per_node={nproc} is more than one node can start (at "
                          f"most {MAX_PROCS_PER_NODE} processes); lower it or spread the ranks over nodes (nnodes)")
    if isinstance(nnodes, int) and nnodes < 1:
        raise ConfigError(f"TorchDistributedTraining nnodes must be at least 1, got {nnodes}")
    if isinstance(restarts, int) and restarts < 0:
        raise ConfigError(f"TorchDistributedTraining max_restarts must be 0 or more, got {restarts}")
    if isinstance(timeout, (int, float)) and not timeout > 0:
        raise ConfigError(f"TorchDistributedTraining timeout must be positive seconds, got {timeout}")


def _valid_endpoint(endpoint: str) -> bool:
    match = _ENDPOINT.match(endpoint)
    return match is not None and 1 <= int(match["port"]) <= 65535


def _check_cuda(nproc: object) -> None:
    if not cuda_available():
        raise ConfigError("TorchDistributedTraining(backend='nccl') needs CUDA, and no CUDA device is available; "
                          "use backend='gloo' on CPUs")
    import torch

    devices = int(torch.cuda.device_count())
    if isinstance(nproc, int) and nproc > devices:
        raise ConfigError(f"TorchDistributedTraining(backend='nccl') nproc_per_node={nproc} needs one GPU per rank, "
                          f"but this node has {devices}; lower nproc_per_node or use backend='gloo'")


def _rendezvous_id(nnodes: int, endpoint: str | None) -> str:
    # the nodes of one job must agree on it without talking first, so it comes from what they share
    if nnodes > 1 and endpoint:
        return "zenml-" + re.sub(r"[^A-Za-z0-9]", "-", endpoint)
    return f"zenml-{uuid.uuid4().hex[:12]}"


def free_port() -> int:
    """A TCP port on the loopback interface that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- the parent's side of the launcher process -----------------------------------------------------

def _start_launcher(folder: str, nproc: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    # the launcher must import zenml before it restores the parent's sys.path
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    if nproc > 1:
        env.setdefault("OMP_NUM_THREADS", "1")  # as torchrun does: ranks share the cores
    code = "import sys; from zenml.backends.training.torch_distributed import launcher_main; launcher_main(sys.argv[1])"
    # a new session: the launcher and every rank it starts share one process group to stop at once
    return subprocess.Popen([sys.executable, "-c", code, folder], env=env, start_new_session=True)


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Stop the launcher and every process of its group (ranks, helpers), gently then for sure."""
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_GRACE_SECONDS)
    _signal_group(process.pid, signal.SIGKILL)  # stragglers, even after a normal exit
    process.wait()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is already gone
        os.killpg(pgid, signum)


def _read_outcome(folder: str, returncode: int | None) -> dict[str, Any]:
    path = os.path.join(folder, _OUTCOME)
    if not os.path.exists(path):
        raise BackendError(f"the TorchDistributedTraining launcher exited with code {returncode} before reporting "
                           "a result; its output above says why")
    with open(path, "rb") as handle:
        outcome: dict[str, Any] = pickle.load(handle)  # written by our own launcher in a private folder
    return outcome


def _result_of(outcome: dict[str, Any]) -> Any:
    if not outcome["ok"]:
        raise _error_of(outcome["failures"])
    results: dict[int, Any] = outcome["results"]
    if 0 not in results:
        raise BackendError(f"global rank 0 ran on another node (this node ran ranks {sorted(results)}); "
                           "the run on that node holds the model")
    return results[0]


def _error_of(failures: list[dict[str, Any]]) -> Exception:
    """The root cause: the first failure by time, a zenml error before others, then the lowest rank."""
    first = min(failures, key=lambda f: (f["timestamp"], _zenml_error_class(f["message"]) is None, f["rank"]))
    rank, message = first["rank"], first["message"]
    error_class = _zenml_error_class(message)
    if error_class is not None:
        return error_class(f"{message.partition(': ')[2]} (on training rank {rank})")
    return BackendError(f"TorchDistributedTraining: training rank {rank} failed: {message}")


def _zenml_error_class(message: str) -> type[exceptions.ZenMLError] | None:
    name = message.partition(": ")[0]
    found = getattr(exceptions, name, None)
    simple = isinstance(found, type) and issubclass(found, exceptions.ZenMLError) and found is not exceptions.StepError
    return found if simple else None


# -- the launcher process (runs elastic_launch in its main thread) ----------------------------------

def launcher_main(folder: str) -> None:
    """Entry point of the launcher process: launch the ranks, write the outcome to ``folder``."""
    with open(os.path.join(folder, _SETTINGS)) as handle:
        settings = json.load(handle)
    _die_with_parent(settings["parent_pid"])
    sys.path[:] = settings["sys_path"]  # the ranks inherit it, so they import what the parent could
    with open(os.path.join(folder, _JOB), "rb") as handle:
        job = pickle.load(handle)  # written by the parent in a private folder
    outcome = _launch(settings, job)
    with open(os.path.join(folder, _OUTCOME), "wb") as handle:
        pickle.dump(outcome, handle)


def _die_with_parent(parent_pid: int) -> None:
    """Kill this process group if the process that asked for the launch disappears."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="zenml-parent-watch", daemon=True).start()


def _launch(settings: dict[str, Any], job: Any) -> dict[str, Any]:
    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    config = LaunchConfig(
        min_nodes=settings["nnodes"], max_nodes=settings["nnodes"], nproc_per_node=settings["nproc_per_node"],
        run_id=settings["run_id"], rdzv_backend="c10d", rdzv_endpoint=settings["rdzv_endpoint"],
        rdzv_configs={"read_timeout": settings["read_timeout"]},  # how long a node waits for the store's host
        max_restarts=settings["max_restarts"], start_method="spawn",
        logs_specs=DefaultLogsSpecs(log_dir=settings["log_dir"]),
    )
    try:
        returned = elastic_launch(config, run_rank)(job, settings["backend"])
    except ChildFailedError as exc:
        return {"ok": False, "failures": [_failure(rank, failure) for rank, failure in exc.failures.items()]}
    except Exception as exc:  # noqa: BLE001 -- rendezvous or agent errors: reported like a rank's
        return {"ok": False, "failures": [{"rank": "launcher", "message": f"{type(exc).__name__}: {exc}",
                                           "timestamp": int(time.time())}]}
    return {"ok": True, "results": dict(returned.values())}


def _failure(rank: int, failure: Any) -> dict[str, Any]:
    message = failure.message
    if isinstance(message, dict):
        message = message.get("message", "")
    return {"rank": rank, "message": str(message), "timestamp": int(failure.timestamp)}


# -- one rank -------------------------------------------------------------------------------------

def run_rank(job: Callable[[TrainingContext], Any], backend: str) -> tuple[int, Any]:
    """Entry point of each rank: build its context from the launcher's environment and run ``job``.

    The elastic launcher wraps it in ``torch.distributed.elastic``'s ``record``, so an exception
    is written to the rank's error file, from which the launcher reports its message.
    """
    context = rank_context(os.environ, backend)
    if context.device.startswith("cuda"):
        import torch

        torch.cuda.set_device(context.local_rank)  # collectives (barrier) use this rank's GPU
    return context.rank, job(context)


def rank_context(env: Mapping[str, str], backend: str) -> TrainingContext:
    """The ``TrainingContext`` of the rank described by ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``."""
    local_rank = int(env["LOCAL_RANK"])
    device = f"cuda:{local_rank}" if backend == "nccl" and cuda_available() else "cpu"
    return TrainingContext(rank=int(env["RANK"]), world_size=int(env["WORLD_SIZE"]), local_rank=local_rank,
                           device=device, distribution={"framework": "torch", "backend": backend})
