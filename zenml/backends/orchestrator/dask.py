"""``DaskOrchestrator``: each step is a task on a ``dask.distributed`` cluster.

Dask is imported only when a run uses this orchestrator (``pip install 'zenml[dask]'``).

A multi-machine cluster needs stores every worker can reach: a shared metadata store
(MySQL/PostgreSQL) and a shared artifact store (S3/GCS). Sending work to a remote scheduler
while the stack points at a local SQLite file or a local folder is refused before any step runs.
"""

from __future__ import annotations

import logging
import os
import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, ClassVar
from urllib.parse import urlsplit

from zenml.backends.base import require_module
from zenml.backends.orchestrator.base import BaseOrchestrator
from zenml.backends.orchestrator.resources import check_capacity, machine_capacity
from zenml.backends.orchestrator.worker import recipe_of, report_skipped, run_step, upstream_of, warm_up
from zenml.exceptions import BackendError, ConfigError, StepError
from zenml.pipelines.spec import RunSpec
from zenml.runtime.events import RunListener, StepOutcome
from zenml.runtime.stores import Stores, StoresRecipe

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
#: zenml resource names → the Dask worker resource names (``dask worker --resources "CPU=4,GPU=1"``).
DASK_RESOURCES = {"cpu": "CPU", "memory": "MEMORY", "gpu": "GPU"}


class DaskOrchestrator(BaseOrchestrator):
    """Steps as Dask tasks; each task depends on its upstream steps' tasks and calls ``execute_step``.

    Args:
        address: a scheduler address (``tcp://host:8786``); ``None`` starts a ``LocalCluster`` of
            ``n_workers`` processes for the run and closes it afterwards.
        n_workers: worker processes of the local cluster.
        threads_per_worker: threads per local worker (steps running at once per worker).
        timeout: seconds to wait for the scheduler before failing.

    A step is submitted once its upstream steps are done (their futures are its arguments, so
    the scheduler knows the dependency). On the first failure nothing new is submitted (failure
    policy ``stop``) or only steps independent of it are (``continue``); running steps finish,
    and the first failing step's ``StepError`` is raised.

    Resource requests become Dask worker resources (``CPU``, ``MEMORY`` in bytes, ``GPU``), so
    the scheduler only places a step on a worker that declares enough. The local cluster's
    workers declare ``CPU=threads_per_worker``, an equal share of this machine's memory and its
    GPUs; workers of an existing cluster declare theirs with ``dask worker --resources
    "CPU=4,MEMORY=16e9,GPU=1"``. A request no worker can satisfy is refused before any step is
    sent (it would otherwise wait forever).
    """

    supported_resources: ClassVar[frozenset[str]] = frozenset(DASK_RESOURCES)

    def __init__(
        self, address: str | None = None, n_workers: int = 2, threads_per_worker: int = 1, timeout: float = 10.0
    ) -> None:
        if n_workers < 1 or threads_per_worker < 1:
            raise ConfigError("DaskOrchestrator needs n_workers >= 1 and threads_per_worker >= 1")
        if timeout <= 0:
            raise ConfigError(f"DaskOrchestrator needs timeout > 0, got {timeout}")
        self.address = address
        self.n_workers = n_workers
        self.threads_per_worker = threads_per_worker
        self.timeout = timeout

    def check_available(self) -> None:
        """Dask's distributed scheduler must be installed (checked when the run is compiled)."""
        require_module("distributed", "DaskOrchestrator", "dask")

    def _run(
        self, spec: RunSpec, steps: list[str], stores: Stores, listener: RunListener, use_cache: bool
    ) -> list[StepOutcome]:
        recipe = recipe_of(stores, "dask")
        self.check_shared_stores(recipe)
        distributed = _import_distributed()
        with self._client(distributed) as client:
            if self.address is not None:
                check_worker_resources(spec, client)
            # Each worker imports zenml and opens the stores now, not when its first step lands; a
            # failure here resurfaces, with its message, when a step opens the stores.
            client.run(warm_up, recipe)
            return _schedule(client, distributed, spec, steps, recipe, listener, use_cache)

    def check_spec(self, spec: RunSpec) -> None:
        """With a local cluster, refuse requests its workers cannot satisfy (remote: checked on connect)."""
        super().check_spec(spec)
        if self.address is None:
            check_capacity(spec, self.local_worker_capacity(), f"each of the {self.n_workers} local Dask workers")

    def local_worker_capacity(self) -> dict[str, float]:
        """What each worker of the local cluster declares: its threads, a share of memory, the GPUs."""
        machine = machine_capacity()
        return {
            "cpu": float(self.threads_per_worker),
            "memory": machine["memory"] / self.n_workers,
            "gpu": machine["gpu"],
        }

    def preflight(self, stores: Stores) -> None:
        """A remote cluster needs stores every machine can reach (checked before the run is recorded)."""
        self.check_shared_stores(recipe_of(stores, "dask"))

    def check_shared_stores(self, recipe: StoresRecipe) -> None:
        """Refuse a remote cluster while the stores are local to this machine.

        Raises:
            ConfigError: an address of another host with a SQLite metadata store or a local artifact folder.
        """
        if self.address is None or urlsplit(self.address).hostname in LOCAL_HOSTS:
            return
        local = []
        if recipe.metadata_url.startswith("sqlite"):
            local.append("the metadata store is a local SQLite file")
        if "://" not in recipe.artifact_uri or recipe.artifact_uri.startswith("file://"):
            local.append(f"the artifact store is a local folder ({recipe.artifact_uri})")
        if local:
            raise ConfigError(
                f"refusing to send work to the Dask cluster at {self.address}: {' and '.join(local)}, which its "
                "workers cannot reach. A multi-machine setup needs a shared metadata store (MySQL/PostgreSQL, "
                "e.g. ZEN_METADATA_STORE=postgresql+psycopg://...) and a shared artifact store (S3/GCS, e.g. "
                "ZEN_ARTIFACT_STORE=s3://bucket/path)"
            )

    @contextmanager
    def _client(self, distributed: Any) -> Iterator[Any]:
        if self.address is None:
            import dask

            declared = {DASK_RESOURCES[name]: amount for name, amount in self.local_worker_capacity().items() if amount}
            # Without a dashboard nobody sees the workers' statistical profiles, and sampling every
            # step's stack each 10 ms cost a CPU-bound pure-Python step 2 % of its wall time here.
            with dask.config.set({"distributed.worker.profile.enabled": False}):
                cluster = distributed.LocalCluster(
                    n_workers=self.n_workers,
                    threads_per_worker=self.threads_per_worker,
                    processes=True,
                    dashboard_address=None,
                    resources=declared,
                    preload=[__name__],  # dask_setup, below, in each worker process
                )
            quiet = _Quiet(logging.getLogger("distributed"))
            try:
                with distributed.Client(cluster, timeout=self.timeout) as client:
                    try:
                        yield client
                    except KeyboardInterrupt:
                        # before the client cancels their tasks; the scheduler and nannies (in this
                        # process) would log, with tracebacks, about the workers ended on purpose
                        quiet.start()
                        _end_workers(cluster)
                        raise
            finally:
                cluster.close()
                quiet.stop()
            return
        try:
            client = distributed.Client(self.address, timeout=self.timeout)
        except (OSError, TimeoutError) as exc:
            raise BackendError(
                f"cannot reach the Dask scheduler at {self.address} within {self.timeout:g} s "
                f"({type(exc).__name__}: {exc}); start it with 'dask scheduler' or fix the address"
            ) from exc
        with client:
            yield client


class _Quiet:
    """Silences a logger between ``start`` and ``stop`` (both may be called any number of times)."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.level: int | None = None

    def start(self) -> None:
        if self.level is None:
            self.level = self.logger.level
            self.logger.setLevel(logging.CRITICAL + 1)

    def stop(self) -> None:
        if self.level is not None:
            self.logger.setLevel(self.level)
            self.level = None


def dask_setup(worker: Any) -> None:
    """Dask's preload hook, run as each worker process of a local cluster starts: ignore Ctrl-C.

    The terminal sends Ctrl-C to the workers too (they share its process group); a worker would stop
    its event loop and log about the task it abandoned. The orchestrator decides: ``_end_workers``.
    """
    del worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _end_workers(cluster: Any) -> None:
    """Ctrl-C: end the local cluster's worker processes now, with the steps they run.

    A Dask worker runs a step in a thread, which nothing can interrupt: its nanny would wait 4 s for
    it, then kill it and log a warning. Told it is closing, the nanny does not restart the killed
    process; the engine records the steps that were running as interrupted.
    """
    for nanny in list(cluster.workers.values()):
        nanny.close_gracefully(reason="zenml-interrupted")
        pid = getattr(nanny, "pid", None)
        if pid:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def check_worker_resources(spec: RunSpec, client: Any) -> None:
    """Refuse, before any step is sent, a request that no worker of the cluster declares enough for.

    Raises:
        BackendError: names the step, the request and what the workers declare.
    """
    workers = client.scheduler_info()["workers"].values()
    declared = [dict(worker.get("resources") or {}) for worker in workers]
    for name, step in spec.steps.items():
        wanted = {DASK_RESOURCES[key]: amount for key, amount in step.runtime.resources.requested().items()}
        if wanted and not any(all(have.get(key, 0) >= amount for key, amount in wanted.items()) for have in declared):
            raise BackendError(
                f"step '{name}' asks for {wanted} but no worker of the Dask cluster declares that much "
                f"(workers declare {declared or 'nothing'}); start workers with "
                'dask worker ADDRESS --resources "CPU=4,MEMORY=16e9,GPU=1"'
            )


def resources_of(spec: RunSpec, name: str) -> dict[str, float] | None:
    """The Dask resources a step's task needs (``None``: no constraint)."""
    wanted = {DASK_RESOURCES[key]: amount for key, amount in spec.steps[name].runtime.resources.requested().items()}
    return wanted or None


class _Placement:
    """Where this run's next step goes: a worker thread that none of its steps occupies.

    Left to Dask, every branch of a fan-out was queued on the worker holding the (tiny) output they
    depend on, and work stealing, guessing from duration estimates, rebalanced late or moved a
    branch onto the busy worker, idling the other for up to a second per round. So a step is sent
    only when a worker that declares what it asks for has a free thread, with that worker as a
    loose preference (``allow_other_workers``: the scheduler still places it elsewhere if the
    worker has gone). Dependencies are still passed to the scheduler as the upstream futures.
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self.threads: dict[str, int] = {}
        self.resources: dict[str, dict[str, float]] = {}
        self.running: dict[str, int] = {}

    def refresh(self) -> None:
        """Read the workers again (a cluster may grow or shrink during a run)."""
        info: dict[str, dict[str, Any]] = self.client.scheduler_info()["workers"]
        self.threads = {str(address): max(1, int(w.get("nthreads") or 1)) for address, w in info.items()}
        self.resources = {str(address): dict(w.get("resources") or {}) for address, w in info.items()}
        for address in self.threads:
            self.running.setdefault(address, 0)

    def take(self, wanted: dict[str, float] | None) -> tuple[bool, str | None]:
        """Whether to send a step asking for ``wanted`` now, and the worker it should prefer.

        A capable worker with a free thread: now, to it. No capable worker at all: now, anywhere (the
        scheduler queues or refuses it). Every capable worker busy with this run: not yet.
        """
        able = [a for a in self.threads if all(self.resources[a].get(k, 0) >= v for k, v in (wanted or {}).items())]
        if not able:
            return True, None
        free = [address for address in able if self.running[address] < self.threads[address]]
        if not free:
            return False, None
        chosen = min(free, key=lambda address: self.running[address] / self.threads[address])
        self.running[chosen] += 1
        return True, chosen

    def release(self, address: str | None) -> None:
        """A step sent to ``address`` by ``take`` has finished."""
        if address is not None and address in self.running:
            self.running[address] -= 1


def _import_distributed() -> Any:
    try:
        import dask.distributed
    except ImportError as exc:
        raise BackendError("DaskOrchestrator needs Dask: pip install 'zenml[dask]'") from exc
    return dask.distributed


def _schedule(
    client: Any,
    distributed: Any,
    spec: RunSpec,
    steps: list[str],
    recipe: StoresRecipe,
    listener: RunListener,
    use_cache: bool,
) -> list[StepOutcome]:
    spec_yaml = spec.to_yaml()
    waiting = {name: upstream_of(spec, name, steps) for name in steps}
    futures: dict[str, Any] = {}
    started: dict[Any, tuple[str, float, str | None]] = {}
    placement = _Placement(client)
    completed = distributed.as_completed()
    outcomes: list[StepOutcome] = []
    failure: BaseException | None = None

    def submit_ready() -> None:
        placement.refresh()
        for name in [n for n, deps in waiting.items() if not deps]:
            wanted = resources_of(spec, name)
            send, worker = placement.take(wanted)
            if not send:
                continue  # every capable worker is busy with this run: sent when one finishes
            del waiting[name]
            upstream = [futures[source] for source in upstream_of(spec, name, steps)]
            # The key's prefix (what Dask groups duration estimates by) is the step.
            key = f"zenml.{name}-{spec.run_id}-{uuid.uuid4().hex[:8]}"
            futures[name] = client.submit(
                run_step, spec_yaml, name, recipe, use_cache, *upstream, key=key, pure=False,
                resources=wanted, workers=[worker] if worker else None, allow_other_workers=True,
            )  # fmt: skip
            started[futures[name]] = (name, time.perf_counter(), worker)
            completed.add(futures[name])
            listener.step_started(name)

    submit_ready()
    for future in completed:
        name, began, worker = started.pop(future)
        placement.release(worker)
        try:
            outcome: StepOutcome = future.result()
        except StepError as error:
            outcome = StepOutcome(name, error.status, time.perf_counter() - began, error)
            failure = failure or error
        except Exception as exc:  # noqa: BLE001 -- a bad spec or a lost worker: re-raised after the rest finish
            failure = failure or exc
            continue
        listener.step_finished(outcome)
        outcomes.append(outcome)
        if outcome.status not in ("failed", "timed_out"):
            for deps in waiting.values():
                deps.discard(name)
        if failure is None or spec.failure_policy == "continue":
            submit_ready()
    if failure is not None:
        report_skipped(waiting, listener)
        raise failure
    return outcomes
