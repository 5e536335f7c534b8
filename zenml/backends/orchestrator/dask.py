"""``DaskOrchestrator``: each step is a task on a ``dask.distributed`` cluster.

Dask is imported only when a run uses this orchestrator (``pip install 'zenml[dask]'``).

A multi-machine cluster needs stores every worker can reach: a shared metadata store
(MySQL/PostgreSQL) and a shared artifact store (S3/GCS). Sending work to a remote scheduler
while the stack points at a local SQLite file or a local folder is refused before any step runs.

The local cluster's worker processes are forks of a fork server (``fork_server``): a fork of this
process where that is safe, else multiprocessing's own, which imports Dask's worker and zenml's step
machinery once per process (see ``forkserver_settings``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, ClassVar
from urllib.parse import urlsplit

from zenml.backends.base import require_module
from zenml.backends.orchestrator import fork_server
from zenml.backends.orchestrator.base import BaseOrchestrator
from zenml.backends.orchestrator.ledger import Ledger
from zenml.backends.orchestrator.lost import (
    Overtime,
    record_lost,
    run_contained,
    stopped_after_timeout,
    stopped_with_the_run,
    worker_died,
)
from zenml.backends.orchestrator.resources import check_capacity, machine_capacity
from zenml.backends.orchestrator.worker import recipe_of, warm_up
from zenml.exceptions import BackendError, ConfigError, StepError
from zenml.pipelines.spec import RunSpec
from zenml.runtime.events import RunListener, StepOutcome
from zenml.runtime.stores import Stores, StoresRecipe
from zenml.utils.status import StepStatus

logger = logging.getLogger("zenml")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
#: zenml resource names → the Dask worker resource names (``dask worker --resources "CPU=4,GPU=1"``).
DASK_RESOURCES = {"cpu": "CPU", "memory": "MEMORY", "gpu": "GPU"}
#: While a ready step waits for a free worker thread, how often the workers are looked at again.
HELD_RECHECK_SECONDS = 1.0
#: How long a dead worker's nanny gets to tell its exit code before the step's error says it is unknown.
EXIT_CODE_WAIT_SECONDS = 3.0
#: A worker ended to stop a step past its timeout exits with this code, this long after being asked.
STOPPED_EXIT_CODE = 75
END_DELAY_SECONDS = 0.1
#: A step whose worker died before the step began (it was queued there) is sent again at most this often.
MAX_RESENDS = 2
#: With a remote scheduler, how often the running steps are looked for on its workers (see ``_DaskRun.rescue``).
RESCUE_SECONDS = 2.0


class DaskOrchestrator(BaseOrchestrator):
    """Steps as Dask tasks; each task calls ``execute_step`` on a worker once its upstream steps are done.

    Args:
        address: a scheduler address (``tcp://host:8786``); ``None`` starts a ``LocalCluster`` of
            ``n_workers`` processes for the run and closes it afterwards.
        n_workers: worker processes of the local cluster.
        threads_per_worker: threads per local worker (steps running at once per worker).
        timeout: seconds to wait for the scheduler before failing.

    A step is submitted once its upstream steps are done; its task reads their outputs from the
    stores (no upstream futures are its arguments, and each future is released once read, so a
    worker's death never makes Dask recompute a step that completed). On the first failure
    nothing new is submitted (failure policy ``stop``) or only steps independent of it are
    (``continue``); running steps finish, and the first failing step's ``StepError`` is raised.

    A worker process that dies while running a step (``os._exit``, a crash in native code, the
    out-of-memory killer) fails that step at once, recorded ``WorkerDied`` with the exit code or
    signal: the local cluster sets ``distributed.scheduler.allowed-failures`` to 0, so Dask does
    not run the task again on another worker (a remote scheduler retries it as its own setting
    says, then fails it). A step still running ``STOP_GRACE_SECONDS`` past its timeout (blocked
    in a C call, where the timeout raised in its thread cannot land) is cancelled and its worker
    process ended (its nanny starts a fresh one); the step is recorded ``timed_out``.

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
        with self._client(distributed) as (client, exits):
            if self.address is not None:
                check_worker_resources(spec, client)
            # Each worker imports zenml and opens the stores now, not when its first step lands; a
            # failure here resurfaces, with its message, when a step opens the stores.
            client.run(warm_up, recipe)
            run = _DaskRun(client, spec, steps, stores, listener, exits)
            return run.run(spec.to_yaml(), recipe, use_cache)

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
        """A remote cluster needs stores every machine can reach (checked before the run is recorded).

        For a local cluster, its workers' fork server starts now (see ``fork_server``): it imports
        what they need of Dask and zenml while this process records the run, imports Dask and
        starts the scheduler.
        """
        self.check_shared_stores(recipe_of(stores, "dask"))
        if self.address is None:
            fork_server.start(FORKSERVER_PRELOAD)

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
    def _client(self, distributed: Any) -> Iterator[tuple[Any, dict[str, int] | None]]:
        """A client of the local cluster (with the exit codes its workers die with) or of ``address`` (``None``)."""
        if self.address is None:
            quiet = _Quiet(logging.getLogger("distributed"))
            try:
                with (
                    self._local_cluster(distributed) as (cluster, exits),
                    distributed.Client(cluster, timeout=self.timeout) as client,
                ):
                    try:
                        yield client, exits
                    except KeyboardInterrupt:
                        # before the client cancels their tasks; the scheduler and nannies (in this
                        # process) would log, with tracebacks, about the workers ended on purpose
                        quiet.start()
                        _end_workers(cluster)
                        raise
            finally:
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
            yield client, None

    @contextmanager
    def _local_cluster(self, distributed: Any) -> Iterator[tuple[Any, dict[str, int]]]:
        import dask

        declared = {DASK_RESOURCES[name]: amount for name, amount in self.local_worker_capacity().items() if amount}
        exits: dict[str, int] = {}
        settings = {
            # Without a dashboard nobody sees the workers' statistical profiles, and sampling every
            # step's stack each 10 ms cost a CPU-bound pure-Python step 2 % of its wall time here.
            "distributed.worker.profile.enabled": False,
            # Each wake-up of a worker's event loop takes the GIL from the step running in its task
            # thread. The loop's health check every 20 ms, with the memory and system monitors, made a
            # CPU-bound pure-Python step take ~10 % more CPU than in a pool worker. A blocked loop is still
            # reported (after 3 s), workers over their memory limit are still paused and restarted, and
            # the system monitor only feeds a dashboard, which the local cluster does not start.
            "distributed.admin.tick.interval": "1s",
            "distributed.worker.memory.monitor-interval": "500ms",
            "distributed.admin.system-monitor.interval": "2s",
            "distributed.admin.system-monitor.gil.enabled": False,
            # A task whose worker dies fails at once (KilledWorker), recorded as its step's failure;
            # by default Dask would run it on up to 3 more workers, killing each in turn.
            "distributed.scheduler.allowed-failures": 0,
            **forkserver_settings(),
        }
        with dask.config.set(settings):
            cluster = distributed.LocalCluster(
                n_workers=self.n_workers,
                threads_per_worker=self.threads_per_worker,
                processes=True,
                dashboard_address=None,
                # the scheduler's HTTP server (health, metrics) still starts without a dashboard: on any
                # free port, not on 8787, which another cluster on this machine may hold (Dask warns then)
                scheduler_kwargs={"dashboard_address": ":0"},
                resources=declared,
                worker_class=_exit_noting_nanny(exits),
                preload=[__name__],  # dask_setup, below, in each worker process
                # what a spawned worker would inherit (a fork of the fork server has the server's environment);
                # Dask's pre-spawn variables keep Dask's values, as when it set them before spawning
                env={k: v for k, v in os.environ.items() if k not in dask.config.get(PRE_SPAWN_ENVIRON, {})},
            )
        try:
            yield cluster, exits
        finally:
            cluster.close()


PRE_SPAWN_ENVIRON = "distributed.nanny.pre-spawn-environ"
#: What the fork server imports once for the local cluster's workers: Dask's worker and zenml's step machinery.
FORKSERVER_PRELOAD = ["distributed", __name__]


def forkserver_settings() -> dict[str, str]:
    """Dask settings that start the local cluster's worker processes as forks of a fork server.

    A spawned worker imports ``distributed`` and zenml's step machinery (~0.6 s of CPU each); the
    fork server imports them once per process. Dask's own preload list for the fork server would
    first import each of its optional packages (pandas among them) into this process to see which
    exist, so zenml sets the list itself and marks it set. Without a fork server (Windows), or a
    Dask whose internals differ, workers are spawned as before.
    """
    import distributed.utils

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return {}
    if not getattr(distributed.utils, "_forkserver_preload_set", True):
        fork_server.use_preload(FORKSERVER_PRELOAD)
        distributed.utils._forkserver_preload_set = True
    return {"distributed.worker.multiprocessing-method": "forkserver"}


def _exit_noting_nanny(exits: dict[str, int]) -> type[Any]:
    """A ``Nanny`` that notes in ``exits`` the exit code of its worker process, by worker address.

    The scheduler only tells a client that a worker died; its nanny (in this process, for the
    local cluster) is what knows the exit code or signal.
    """
    from distributed import Nanny

    class ExitNotingNanny(Nanny):
        def _on_worker_exit_sync(self, exitcode: int) -> None:
            if self.worker_address:
                exits[str(self.worker_address)] = exitcode
            super()._on_worker_exit_sync(exitcode)  # type: ignore[no-untyped-call]

    return ExitNotingNanny


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
    worker has gone).
    """

    def __init__(self, client: Any, learn_pids: bool = False) -> None:
        self.client, self.learn_pids = client, learn_pids
        self.threads: dict[str, int] = {}
        self.resources: dict[str, dict[str, float]] = {}
        self.running: dict[str, int] = {}
        self.pids: dict[str, int] = {}  # with learn_pids, each worker's process id (its exit code is logged by it)

    def refresh(self) -> None:
        """Read the workers again (a cluster may grow or shrink during a run)."""
        info: dict[str, dict[str, Any]] = self.client.scheduler_info()["workers"]
        self.threads = {str(address): max(1, int(w.get("nthreads") or 1)) for address, w in info.items()}
        unknown = [address for address in self.threads if address not in self.pids]
        if self.learn_pids and unknown:
            pids = self.client.run(os.getpid, workers=unknown, on_error="return")
            self.pids.update({str(a): pid for a, pid in pids.items() if isinstance(pid, int)})
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


class _DaskRun:
    """One run on the cluster: sends steps as their inputs complete, collects them, stops overdue ones.

    A step's task gets no upstream futures as arguments (it reads its inputs from the stores, and is
    sent only once they are recorded), and each future is released once its outcome is read: the
    scheduler then holds no finished step, so a worker that dies never makes it recompute (re-run)
    a step that already completed.
    """

    def __init__(
        self,
        client: Any,
        spec: RunSpec,
        steps: list[str],
        stores: Stores,
        listener: RunListener,
        exits: dict[str, int] | None,
    ) -> None:
        self.client, self.spec, self.stores, self.exits = client, spec, stores, exits
        self.distributed = _import_distributed()
        self.ledger = Ledger(spec, steps, listener)
        self.running: dict[Any, tuple[str, str | None]] = {}  # future → (step, the worker it was sent to)
        self.placement = _Placement(client, learn_pids=exits is None)
        self.overtime = Overtime(spec, stores)
        self.held = False  # a ready step waits for a free worker thread
        self.read: list[Any] = []  # futures whose outcome is in, to release
        self.stopped: set[str] = set()  # addresses of workers ended to stop a step past its timeout
        self.resent: dict[str, int] = {}  # step → times it was sent again after its worker died
        self.unplaced: set[str] = set()  # keys on no worker at the last look (see rescue)
        self.next_rescue = 0.0

    def run(self, spec_yaml: str, recipe: StoresRecipe, use_cache: bool) -> list[StepOutcome]:
        """Execute the steps; return their outcomes, or raise the first failure once the running ones ended."""
        task = (spec_yaml, recipe, use_cache)
        try:
            self.submit_ready(task)
            while self.running:
                for future in self.wait():
                    self.collect(future)
                for name in self.overtime.overdue():
                    self.stop(name)
                self.rescue()
                self.submit_ready(task)
                self.release_read()
        except BaseException as exc:  # e.g. KeyboardInterrupt: no step is left recorded as running
            self.abandon(exc)
            raise
        return self.ledger.close()

    def abandon(self, reason: BaseException) -> None:
        """Cancel the steps still running and record them failed with ``reason`` (their workers go with the cluster)."""
        for future, (name, _) in list(self.running.items()):
            try:
                future.cancel()
                record_lost(self.stores, self.spec, name, stopped_with_the_run(name, reason, "its task was cancelled"))
            except Exception as exc:  # noqa: BLE001 -- the reason the run stops is what must surface
                logger.warning("could not record step '%s' as stopped: %s", name, exc)

    def wait(self) -> set[Any]:
        timeout = self.overtime.wait_seconds()
        if self.held:  # a worker may come (back) or free up elsewhere: look again soon
            timeout = min(timeout if timeout is not None else HELD_RECHECK_SECONDS, HELD_RECHECK_SECONDS)
        if self.exits is None:  # a remote scheduler: see rescue
            timeout = min(timeout if timeout is not None else RESCUE_SECONDS, RESCUE_SECONDS)
        try:
            finished = self.distributed.wait(list(self.running), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return set()
        done: set[Any] = finished.done
        return done

    def submit_ready(self, task: tuple[str, StoresRecipe, bool]) -> None:
        ready = self.ledger.ready()
        self.held = False
        if ready:
            self.placement.refresh()
        for name in ready:
            wanted = resources_of(self.spec, name)
            send, worker = self.placement.take(wanted)
            if not send:
                self.held = True  # every capable worker is busy with this run
                continue
            spec_yaml, recipe, use_cache = task
            # The key's prefix (what Dask groups duration estimates by) is the step.
            key = f"zenml.{name}-{self.spec.run_id}-{uuid.uuid4().hex[:8]}"
            future = self.client.submit(
                run_contained, spec_yaml, name, recipe, use_cache, key=key, pure=False,
                resources=wanted, workers=[worker] if worker else None, allow_other_workers=worker is not None,
            )  # fmt: skip
            self.running[future] = (name, worker)
            self.overtime.started(name)
            self.ledger.start(name)

    def collect(self, future: Any) -> None:
        name = self.forget(future)
        try:
            outcome: StepOutcome = future.result()
        except StepError as error:
            outcome = StepOutcome(name, error.status, self.ledger.elapsed(name), error)
        except self.distributed.KilledWorker as killed:
            lost = self.lost(name, str(killed.last_worker.address), killed.last_worker.pid)
            if lost is None:
                return
            outcome = lost
        except Exception as exc:  # noqa: BLE001 -- a bad spec or store: re-raised after the rest finish
            self.ledger.fail(exc)
            return
        finally:
            self.read.append(future)  # released once the next steps are sent (see release_read)
        self.ledger.finish(outcome)

    def release_read(self) -> None:
        """Release the futures whose outcome was read: the scheduler forgets their results.

        A result the client still wants is recomputed (the step run again) when the worker
        holding it dies. Released after the next steps are sent, not before: a release just
        ahead of a submission delayed that step's start by ~7 ms on a local cluster.
        """
        for future in self.read:
            future.release()
        self.read.clear()

    def forget(self, future: Any) -> str:
        """Stop tracking ``future``; return its step."""
        name, worker = self.running.pop(future)
        self.placement.release(worker)
        self.overtime.finished(name)
        return name

    def rescue(self) -> None:
        """Treat as lost the steps a remote scheduler left waiting for a worker that cannot come.

        Dask places a task whose worker died on another one, but when every worker was gone at
        that moment (a step that kills its process kills each worker it is retried on), a task
        that prefers a worker never re-places it when new workers join, ``allow_other_workers``
        or not: it would wait forever. A step whose preferred worker is gone and that is on no
        worker at two looks ``RESCUE_SECONDS`` apart is such a task. (The local cluster fails
        such a task at once: ``allowed-failures`` is 0 there.)
        """
        now = time.monotonic()
        if self.exits is not None or now < self.next_rescue:
            return
        self.next_rescue = now + RESCUE_SECONDS
        processing = self.client.processing()
        busy = {key for keys in processing.values() for key in keys}
        unplaced = {
            future.key
            for future, (_, worker) in self.running.items()
            if worker is not None and worker not in processing and future.key not in busy and not future.done()
        }
        for future, (name, worker) in list(self.running.items()):
            if future.key in unplaced & self.unplaced:
                future.cancel()
                self.forget(future)
                lost = self.lost(name, str(worker), self.placement.pids.get(str(worker)))
                if lost is not None:
                    self.ledger.finish(lost)
        self.unplaced = unplaced

    def lost(self, name: str, address: str, pid: int | None) -> StepOutcome | None:
        """Step ``name``'s worker (``address``, ``pid``) died: record the step failed, or (``None``) send it again.

        It goes again when it was not to blame: its worker was ended to stop another step, or the
        step had not begun there (the scheduler had queued it on that worker; its row is not
        ``running``), the latter at most ``MAX_RESENDS`` times.
        """
        rows = self.stores.metadata.step_runs(self.spec.run_id)
        begun = any(row.name == name and row.status == StepStatus.RUNNING for row in rows)
        if address in self.stopped or (not begun and self.resent.get(name, 0) < MAX_RESENDS):
            self.resent[name] = self.resent.get(name, 0) + 1
            self.ledger.requeue(name)
            return None
        error = record_lost(self.stores, self.spec, name, worker_died(name, self.exit_code(address, pid)))
        return StepOutcome(name, error.status, self.ledger.elapsed(name), error)

    def exit_code(self, address: str, pid: int | None) -> int | None:
        """The exit code of a dead worker's process (negative: the signal), if its nanny says it soon enough.

        The local cluster's nannies note it in ``exits``; a remote nanny logs it (at INFO, its default).
        """
        deadline = time.monotonic() + EXIT_CODE_WAIT_SECONDS
        while True:
            code = self.exits.get(address) if self.exits is not None else _logged_exit_code(self.client, pid)
            if code is not None or time.monotonic() > deadline:
                return code
            time.sleep(0.05 if self.exits is not None else 0.25)

    def stop(self, name: str) -> None:
        """End step ``name``, running past its timeout: cancel its task, then end the worker running it."""
        future = next(future for future, (step, _) in self.running.items() if step == name)
        address = next((str(a) for a, keys in self.client.processing().items() if future.key in keys), None)
        if future.done() or address is None:
            return  # it has just ended (collected next), or is on no worker: looked at again later
        future.cancel()  # first: the scheduler must not run it again elsewhere once its worker is gone
        self.forget(future)
        self.stopped.add(address)
        self.client.run(end_this_worker, workers=[address], on_error="ignore")
        timeout = self.spec.steps[name].runtime.timeout or 0.0
        error = record_lost(self.stores, self.spec, name, stopped_after_timeout(name, timeout))
        self.ledger.finish(StepOutcome(name, error.status, self.ledger.elapsed(name), error))


def end_this_worker() -> None:
    """Run on a Dask worker: end its process right after replying (its nanny starts a fresh one).

    The only way to stop a step blocked in a C call in one of the worker's threads.
    """
    threading.Timer(END_DELAY_SECONDS, os._exit, args=(STOPPED_EXIT_CODE,)).start()


def _logged_exit_code(client: Any, pid: int | None) -> int | None:
    """The exit code in a nanny's log line ``Worker process PID exited with status N`` (or ``killed by signal N``)."""
    if pid is None:
        return None
    try:
        logs = client.get_worker_logs(n=200, nanny=True)
    except Exception:  # noqa: BLE001 -- a nanny gone too: the message says the exit status is unknown
        return None
    pattern = re.compile(rf"Worker process {pid} (?:exited with status (\d+)|was killed by signal (\d+))")
    for records in logs.values():
        for _level, message in records:
            match = pattern.search(str(message))
            if match:
                return int(match[1]) if match[1] else -int(match[2])
    return None
