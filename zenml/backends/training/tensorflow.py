"""``TensorflowDistributedTraining``: TensorFlow distribution strategies, in-process or as local worker processes.

This module never imports TensorFlow in the launching process for ``multi_worker``; each
worker process imports it after its ``TF_CONFIG`` is set.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from zenml.backends.base import require_module
from zenml.backends.training.base import BaseTrainingBackend, TrainingContext
from zenml.exceptions import BackendError, ConfigError, ZenMLError
from zenml.utils.quiet import import_tensorflow

T = TypeVar("T")

STRATEGIES = ("mirrored", "multi_worker")
MAX_WORKERS = 16  # local worker processes this backend will start on one machine
POLL_SECONDS = 0.2
EXIT_GRACE_SECONDS = 20.0  # how long finished workers get to exit before they are terminated
_SETTINGS, _JOB, _REPORT = "settings.json", "job.pkl", "report-{rank}.pkl"


class TensorflowDistributedTraining(BaseTrainingBackend):
    """Data-parallel TensorFlow training with a ``tf.distribute`` strategy.

    The TensorFlow trainers build their model and optimizer inside the strategy's scope and
    run each step through ``strategy.run`` (a custom loop: Keras 3's ``model.fit`` fails under
    ``MultiWorkerMirroredStrategy``, keras-team/keras#20585). Rank 0 writes the artifacts.

    * ``mirrored`` — one process (this one), ``MirroredStrategy`` over its local GPUs (or the CPU).
    * ``multi_worker`` — ``workers`` processes on this machine, each with a ``TF_CONFIG`` naming
      a cluster of free loopback ports and its own task index, training together with
      ``MultiWorkerMirroredStrategy``. Each worker gets one local GPU when there are any.

    Multi-node: ``MultiWorkerMirroredStrategy`` is configured only by ``TF_CONFIG``. On each
    machine set ``TF_CONFIG`` to the whole cluster and that machine's index, e.g.
    ``{"cluster": {"worker": ["host0:2222", "host1:2222"]}, "task": {"type": "worker", "index": 1}}``,
    and call ``run_cluster_worker(train_fn)`` there with the trainer step's job (the picklable
    ``TrainJob`` a trainer hands to ``launch``; e.g. from a small backend subclass whose
    ``launch`` does exactly that). It reads ``TF_CONFIG`` and passes ``rank = index`` and
    ``world_size = len(cluster)`` to the job, as the local workers get; index 0 (the chief)
    writes the model and predictions, so give the machines a shared artifact store.

    Args:
        strategy: ``mirrored`` or ``multi_worker``.
        workers: worker processes for ``multi_worker`` (1 to 16); ignored by ``mirrored``.
        timeout: seconds the workers may take in all before they are stopped.

    Examples:
        >>> backend = TensorflowDistributedTraining(strategy="multi_worker", workers=2)
        >>> backend.launch(lambda context: context.world_size)  # doctest: +SKIP
        2
    """

    def __init__(self, strategy: str = "multi_worker", workers: int = 2, timeout: float = 600) -> None:
        self.strategy = strategy
        self.workers = workers
        self.timeout = timeout

    def check_available(self) -> None:
        """TensorFlow must be installed (checked when the run is compiled)."""
        require_module("tensorflow", "TensorflowDistributedTraining", "tensorflow")

    def check_params(self, params: dict[str, object]) -> None:
        """Also require a known strategy, 1 to 16 workers and a positive timeout."""
        super().check_params(params)
        strategy = params.get("strategy")
        if strategy is not None and strategy not in STRATEGIES:
            raise ConfigError(
                f"TensorflowDistributedTraining strategy '{strategy}' is unknown; use one of {', '.join(STRATEGIES)}"
            )
        workers = params.get("workers")
        if isinstance(workers, int) and not 1 <= workers <= MAX_WORKERS:
            raise ConfigError(
                f"TensorflowDistributedTraining workers={workers} cannot be started: it starts 1 to "
                f"{MAX_WORKERS} worker processes on this machine (for more, run workers on several "
                "machines with TF_CONFIG; see the class documentation)"
            )
        timeout = params.get("timeout")
        if isinstance(timeout, (int, float)) and timeout <= 0:
            raise ConfigError(f"TensorflowDistributedTraining timeout must be positive, got {timeout}")

    def result_signature(self) -> dict[str, Any]:
        """The world size: it sets the effective batch, so it changes the trained model."""
        return {"world_size": self.workers if self.strategy == "multi_worker" else 1}

    def launch(self, train_fn: Callable[[TrainingContext], T]) -> T:
        """Run ``train_fn`` under the strategy; return rank 0's result.

        Raises:
            ConfigError: invalid parameters (before anything starts).
            BackendError: a worker failed, died or the workers ran past ``timeout``; every worker
                process is stopped first. A zenml error raised in a worker (e.g. a ``ConfigError``
                for a bad ``model_fn``) is re-raised as the same class.
        """
        self.validate()
        if self.strategy == "mirrored":
            return train_fn(
                TrainingContext(
                    rank=0,
                    world_size=1,
                    local_rank=0,
                    device="cuda" if tensorflow_sees_gpus() else "cpu",
                    distribution={"framework": "tensorflow", "strategy": "mirrored"},
                )
            )
        return _WorkerGroup(self.workers, self.timeout).run(train_fn)


def tensorflow_sees_gpus() -> bool:
    """Whether TensorFlow sees a GPU (imports it, without its start-up noise)."""
    tf = import_tensorflow()  # without its start-up noise
    return bool(tf.config.list_physical_devices("GPU"))


def free_loopback_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports that are free on 127.0.0.1 right now."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def tf_config(addresses: list[str], index: int) -> dict[str, Any]:
    """The ``TF_CONFIG`` of worker ``index`` in a cluster of ``addresses`` (``host:port``)."""
    return {"cluster": {"worker": list(addresses)}, "task": {"type": "worker", "index": index}}


def run_cluster_worker(train_fn: Callable[[TrainingContext], T], local_rank: int = 0) -> T:
    """Run ``train_fn`` as one worker of the cluster described by this process's ``TF_CONFIG``.

    This is what every local worker does; on several machines, call it on each with that
    machine's ``TF_CONFIG`` (set before TensorFlow is imported).

    Raises:
        ConfigError: ``TF_CONFIG`` is missing or names no worker cluster.
    """
    try:
        config = json.loads(os.environ["TF_CONFIG"])
        workers, index = config["cluster"]["worker"], int(config["task"]["index"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            'TF_CONFIG must be set to {"cluster": {"worker": [...]}, "task": {"type": "worker", "index": N}}'
        ) from exc
    context = TrainingContext(
        rank=index,
        world_size=len(workers),
        local_rank=local_rank,
        device=_claim_gpu(local_rank),
        distribution={"framework": "tensorflow", "strategy": "multi_worker"},
    )
    return train_fn(context)


def _claim_gpu(local_rank: int) -> str:
    """Give this worker one local GPU (round robin) before TensorFlow starts; ``cpu`` when there is none.

    Workers sharing a machine must not all grab every GPU, so each sees only its own through
    ``CUDA_VISIBLE_DEVICES``. Found without importing TensorFlow (``/proc/driver/nvidia``).
    """
    if "tensorflow" in sys.modules:  # too late to choose: report what TensorFlow already sees
        return "cuda" if tensorflow_sees_gpus() else "cpu"
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [device.strip() for device in visible.split(",") if device.strip() not in ("", "-1")]
    else:
        gpus = "/proc/driver/nvidia/gpus"
        ids = [str(index) for index in range(len(os.listdir(gpus)))] if os.path.isdir(gpus) else []
    if not ids:
        return "cpu"
    os.environ["CUDA_VISIBLE_DEVICES"] = ids[local_rank % len(ids)]
    return "cuda:0"


def worker_main(folder: str, rank: int) -> None:
    """Entry point of a worker process (``python -c``): train as worker ``rank``, write its report, exit.

    The report (``("ok", rank, result)`` or the error) goes to ``folder`` under a name that appears
    only once it is complete. Workers other than the chief then wait until the launcher closes
    their stdin (it has the chief's result, or is gone), so the chief never sees its peers vanish
    while it writes the artifacts.
    """
    with open(os.path.join(folder, _SETTINGS)) as handle:
        settings = json.load(handle)
    sys.path[:] = settings["sys_path"]  # import what the launching process could
    _exit_with_parent(settings["parent_pid"])
    os.environ["TF_CONFIG"] = json.dumps(tf_config(settings["addresses"], rank))
    try:
        with open(os.path.join(folder, _JOB), "rb") as handle:
            train_fn = pickle.load(handle)  # written by the launching process in its private folder
        result = run_cluster_worker(train_fn, local_rank=rank)
        report: tuple[Any, ...] = ("ok", rank, result if rank == 0 else None)
    except BaseException as exc:  # noqa: BLE001 -- every failure must reach the launcher, as text
        error = type(exc)
        report = ("error", rank, f"{error.__module__}.{error.__qualname__}", str(exc), traceback.format_exc())
    _write_report(folder, rank, report)
    if rank:
        sys.stdin.buffer.read()  # until the launcher closes it
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    # Skip the interpreter's teardown: shutting TensorFlow's collective runtime down takes
    # seconds and adds nothing once the work is reported.
    os._exit(0)


def _write_report(folder: str, rank: int, report: tuple[Any, ...]) -> None:
    try:
        data = pickle.dumps(report)
    except Exception as exc:  # noqa: BLE001 -- an unpicklable result is this worker's failure
        data = pickle.dumps(("error", rank, "builtins.TypeError", f"its result cannot be sent back: {exc}", ""))
    path = os.path.join(folder, _REPORT.format(rank=rank))
    with open(path + ".partial", "wb") as handle:
        handle.write(data)
    os.replace(path + ".partial", path)


def _exit_with_parent(parent_pid: int) -> None:
    """End this worker if the process that launched it disappears (it cannot stop its workers then)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="zenml-parent-watch", daemon=True).start()


class _WorkerGroup:
    """``workers`` processes training together; all stopped on success, failure, timeout or interrupt.

    They are started as new Python processes (``subprocess``), not with ``multiprocessing``: the
    process launching them may be a daemon (a Dask worker is one), and daemons may not have
    ``multiprocessing`` children.
    """

    def __init__(self, workers: int, timeout: float) -> None:
        self.workers = workers
        self.timeout = timeout

    def run(self, train_fn: Callable[[TrainingContext], T]) -> T:
        folder = tempfile.mkdtemp(prefix="zenml-tf-workers-")
        processes: list[subprocess.Popen[bytes]] = []
        finished = False
        try:
            self._write_request(folder, train_fn)
            for rank in range(self.workers):
                processes.append(_start_worker(folder, rank))
            result: T = self._collect(folder, processes)
            finished = True
            return result
        finally:
            for process in processes:  # releases the waiting workers
                with contextlib.suppress(OSError):
                    process.stdin.close()  # type: ignore[union-attr]
            _stop(processes, EXIT_GRACE_SECONDS if finished else 0.0)
            shutil.rmtree(folder, ignore_errors=True)

    def _write_request(self, folder: str, train_fn: Callable[[TrainingContext], Any]) -> None:
        settings = {
            "addresses": [f"127.0.0.1:{port}" for port in free_loopback_ports(self.workers)],
            "sys_path": list(sys.path),
            "parent_pid": os.getpid(),
        }
        with open(os.path.join(folder, _SETTINGS), "w") as handle:
            json.dump(settings, handle)
        try:
            with open(os.path.join(folder, _JOB), "wb") as handle:
                pickle.dump(train_fn, handle)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise ConfigError(
                "TensorflowDistributedTraining runs the training function in other processes, so it must be "
                f"picklable (a module-level function or object): {exc}"
            ) from exc

    def _collect(self, folder: str, processes: list[subprocess.Popen[bytes]]) -> Any:
        """Wait for the chief's result; raise on any worker's error, silent death, or the timeout."""
        deadline = time.monotonic() + self.timeout
        reported: set[int] = set()
        while True:
            for rank, process in enumerate(processes):
                if rank in reported:
                    continue
                exited = process.poll() is not None  # before reading: a report is written before exiting
                message = _read_report(folder, rank)
                if message is None and exited:
                    raise BackendError(
                        f"TensorflowDistributedTraining worker {rank} of {self.workers} exited with code "
                        f"{process.returncode} without a result"
                    )
                if message is None:
                    continue
                if message[0] == "error":
                    _, _, error_type, text, trace = message
                    raise worker_error(rank, self.workers, error_type, text, trace)
                if rank == 0:
                    return message[2]
                reported.add(rank)
            if time.monotonic() > deadline:
                raise BackendError(
                    f"TensorflowDistributedTraining workers did not finish within timeout={self.timeout}s; "
                    "they were stopped (raise timeout for longer training)"
                )
            time.sleep(POLL_SECONDS)


def _start_worker(folder: str, rank: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    # the worker must import zenml before it restores the launching process's sys.path
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    code = (
        "import sys; from zenml.backends.training.tensorflow import worker_main; "
        "worker_main(sys.argv[1], int(sys.argv[2]))"
    )
    return subprocess.Popen([sys.executable, "-c", code, folder, str(rank)], env=env, stdin=subprocess.PIPE)


def _read_report(folder: str, rank: int) -> tuple[Any, ...] | None:
    path = os.path.join(folder, _REPORT.format(rank=rank))
    if not os.path.exists(path):
        return None
    with open(path, "rb") as handle:
        report: tuple[Any, ...] = pickle.load(handle)  # written by our own worker in a private folder
    return report


def worker_error(rank: int, workers: int, error_type: str, text: str, trace: str) -> ZenMLError:
    """The exception for a worker's failure: the worker's own zenml error class, else ``BackendError``.

    ``error_type`` is the dotted name the worker reported; it is looked up among ``zenml.exceptions``, never
    imported, since it comes from another process.
    """
    import zenml.exceptions

    message = f"TensorflowDistributedTraining worker {rank} of {workers} failed: {error_type}: {text}"
    module, _, name = error_type.rpartition(".")
    # looked up among zenml's own errors, never imported by name: the type comes from another process
    error = getattr(zenml.exceptions, name, None) if module == "zenml.exceptions" else None
    if isinstance(error, type) and issubclass(error, ZenMLError):
        return error(message)  # bad input stays bad input (e.g. ConfigError) on any backend
    where = [line.strip() for line in trace.strip().splitlines()[-3:-1]]
    return BackendError(message + (f" (at {' '.join(where)})" if where else ""))


def _stop(processes: list[subprocess.Popen[bytes]], grace: float) -> None:
    """Wait for every process within ``grace`` seconds; terminate, then kill, what is left."""
    deadline = time.monotonic() + grace
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
