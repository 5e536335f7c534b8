"""``SparkProcessing``: data work scheduled as Apache Spark tasks, on ``local[*]`` or a cluster by master URL.

Spark places and runs the work; the data never becomes a Spark DataFrame. Each operation is one
Spark job with one task per input shard (an RDD of task numbers), and each task runs that shard's
work in an executor: read the shard's Arrow batches with pyarrow, apply the data function, write
the output shard with pyarrow — the very functions ``LocalProcessing`` runs, so the shards, their
Arrow types and their bytes are the same on every backend (Spark's own Parquet reader and writer
would turn ``uint``, dictionary, ``large_string`` and time-zone types into Spark SQL types and
drop field metadata). Aggregates come back to the driver as pickled partial accumulators and are
merged there with the combiner's ``merge``. (An RDD of task numbers rather than ``mapInArrow`` over
``spark.range``: measured here, its jobs cost a third as much to plan, launch and collect, which
matters with the half-dozen small jobs a split or preprocessing step runs.)

Executors write output shards straight into the output folder when the master runs on this host
(``local[...]``, ``spark://127.0.0.1:…``); on another host they cannot see this machine's
folders, so each task sends its finished shard files back to the driver, which writes them.
Inputs are read by the executors from the artifact store, so a remote master needs a shared
store (S3, GCS): ``preflight`` refuses a local folder before anything is recorded.

The JVM's own output (log4j, JDK notices) goes to a log file, not the terminal; its path is in
every error and in the debug log.
"""

from __future__ import annotations

import abc
import atexit
import importlib.util
import logging
import os
import pickle
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from zenml.artifacts.dataset import Dataset, finalize_dataset
from zenml.backends.processing.base import (
    BaseProcessingBackend,
    BatchFn,
    Combiner,
    PartitionFn,
    output_schema,
)
from zenml.backends.processing.local import Task, _aggregate_shard, _map_shard, _partition_shard
from zenml.exceptions import BackendError, ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

    from zenml.runtime.stores import Stores

logger = logging.getLogger(__name__)

#: hosts whose executors share this machine's folders
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})
_MASTER = re.compile(r"^(local(\[(\*|\d+)(,\d+)?\])?|local-cluster\[\d+,\d+,\d+\]|spark://[^/]+|yarn|k8s://.+)$")
#: seconds to wait for a TCP connection to a ``spark://`` master before calling it unreachable
CONNECT_TIMEOUT = 5.0


class SparkProcessing(BaseProcessingBackend):
    """Data work as Spark jobs: ``local[*]`` in this process's JVM, or a cluster by master URL.

    Args:
        master: a Spark master URL: ``local[*]``, ``local[N]``, ``spark://host:7077`` (standalone),
            ``yarn`` or ``k8s://…`` (with the matching ``conf``).
        conf: Spark configuration (``{"spark.executor.memory": "4g"}``); values are passed as strings
            and override zenml's defaults (UI off, executors on this interpreter).
        startup_timeout: seconds a cluster master has to grant the application its first executor
            before the step fails (a master with no free workers would otherwise wait forever).

    Examples:
        >>> SparkProcessing(master="local[2]").get_params()["master"]
        'local[2]'
    """

    def __init__(
        self, master: str = "local[*]", conf: dict[str, Any] | None = None, startup_timeout: float = 60.0
    ) -> None:
        self.master = master
        self.conf = conf
        self.startup_timeout = startup_timeout

    def check_params(self, params: dict[str, object]) -> None:
        """Also require a master URL Spark understands, plain conf values and a positive timeout."""
        super().check_params(params)
        master = params.get("master", "local[*]")
        if isinstance(master, str) and not _MASTER.match(master):
            raise ConfigError(
                f"Spark master '{master}' is not a master URL; use local[*], local[N], spark://HOST:PORT, yarn or k8s://..."
            )
        conf = params.get("conf") or {}
        if isinstance(conf, dict):
            for key, value in conf.items():
                if not isinstance(value, str | int | float | bool):
                    kind = type(value).__name__
                    raise ConfigError(f"Spark conf '{key}' must be a string, number or boolean, got {kind}")
        timeout = params.get("startup_timeout", 60.0)
        if isinstance(timeout, int | float) and timeout <= 0:
            raise ConfigError(f"SparkProcessing startup_timeout must be positive, got {timeout}")

    def check_available(self) -> None:
        """PySpark and a Java runtime must be installed (checked when the run is compiled)."""
        check_spark_installed()

    def preflight(self, stores: Stores) -> None:
        """Refuse stores the executors cannot read and a ``spark://`` master nobody answers at."""
        uri = stores.artifacts.uri
        if uri.startswith("memory://"):
            raise ConfigError(
                f"SparkProcessing cannot read the artifact store {uri}: it lives in this process's memory and Spark "
                "executors run in other processes; use a folder or an object store (ZEN_ARTIFACT_STORE=...)"
            )
        if not self.runs_on_this_host() and ("://" not in uri or uri.startswith("file://")):
            raise ConfigError(
                f"refusing to send data work to the Spark master {self.master}: the artifact store is a local folder "
                f"({uri}), which executors on other hosts cannot read. Use a shared artifact store "
                "(S3/GCS, e.g. ZEN_ARTIFACT_STORE=s3://bucket/path) or a master on this host"
            )
        if self.master.startswith("spark://"):
            probe_master(self.master)

    def runs_on_this_host(self) -> bool:
        """Whether the executors run on this machine (and so can write into this machine's folders)."""
        if self.master.startswith("local"):
            return True
        return self.master.startswith("spark://") and _master_hosts(self.master) <= LOCAL_HOSTS

    # -- the interface ----------------------------------------------------------------------------

    def map_batches(
        self, dataset: Dataset, fn: BatchFn, output: str, *, splits: Sequence[str] | None = None
    ) -> Dataset:
        """One Spark task per input shard; each writes one output shard."""
        schema = output_schema(dataset, fn)
        chosen = list(splits) if splits is not None else dataset.splits
        tasks, ship = _tasks(dataset, chosen), not self.runs_on_this_host()
        self._write_shards(_MapShard(dataset=dataset, tasks=tasks, output=output, ship=ship, fn=fn, schema=schema))
        return finalize_dataset(output, schema, chosen)

    def partition(self, dataset: Dataset, fn: PartitionFn, names: Sequence[str], output: str) -> Dataset:
        """One Spark task per input shard; each writes its rows into the named splits."""
        os.makedirs(output, exist_ok=True)
        tasks, ship = _tasks(dataset, None), not self.runs_on_this_host()
        self._write_shards(
            _PartitionShard(dataset=dataset, tasks=tasks, output=output, ship=ship, fn=fn, names=list(names))
        )
        return finalize_dataset(output, dataset.schema, names)

    def aggregate(self, dataset: Dataset, combiner: Combiner, *, splits: Sequence[str] | None = None) -> Any:
        """One Spark task per shard folds it into an accumulator; the driver merges them and extracts."""
        work = _AggregateShard(dataset, _tasks(dataset, splits), combiner)
        accumulators = self._run_tasks(work, len(work.tasks))
        return combiner.extract(combiner.merge(accumulators or [combiner.create()]))

    # -- running tasks ----------------------------------------------------------------------------

    def _write_shards(self, work: _ShardWork) -> None:
        results = self._run_tasks(work, len(work.tasks))
        for files in results:  # ``None`` when the executor wrote into the output folder itself
            for relative, content in (files or {}).items():
                path = os.path.join(work.output, relative)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as handle:
                    handle.write(content)

    def _run_tasks(self, work: Callable[[int], Any], count: int) -> list[Any]:
        """Run ``work(0) … work(count - 1)`` as the tasks of one Spark job; results in task order.

        The work is pickled here with the driver's ``sys.path``, and unpickled by the task only after
        that path is in place, so data functions from the project's own modules load in executors.
        """
        if count == 0:
            return []
        from pyspark import cloudpickle

        context = spark_session(self).sparkContext
        runner = _TaskRunner(cloudpickle.dumps(work), _project_paths())
        try:
            outcomes = dict(context.parallelize(range(count), count).map(runner).collect())
        except KeyboardInterrupt:
            context.cancelAllJobs()
            raise
        except Exception as exc:
            raise BackendError(f"Spark job on {self.master} failed: {_one_line(exc)} (Spark log: {_LOG.path})") from exc
        missing = sorted(set(range(count)) - set(outcomes))
        if missing:
            raise BackendError(f"Spark job on {self.master} returned no result for tasks {missing}")
        for task in range(count):
            ok, value = outcomes[task]
            if not ok:
                raise _task_error(value)
        return [outcomes[task][1] for task in range(count)]


def _tasks(dataset: Dataset, splits: Sequence[str] | None) -> list[Task]:
    chosen = list(splits) if splits is not None else dataset.splits
    pairs = [(split, relative) for split in chosen for relative in dataset.files(split)]
    return [(index, split, relative) for index, (split, relative) in enumerate(pairs)]


# -- the work a task does (pickled to executors) ----------------------------------------------------


@dataclass(kw_only=True)
class _ShardWork(abc.ABC):
    """Work that writes the shards of one task: into ``output``, or (``ship``) into a folder sent back."""

    dataset: Dataset
    tasks: list[Task]
    output: str
    ship: bool

    def __call__(self, index: int) -> dict[str, bytes] | None:
        if not self.ship:
            self.write(self.tasks[index], self.output)
            return None
        folder = tempfile.mkdtemp(prefix="zenml-spark-shard-")
        try:
            self.write(self.tasks[index], folder)
            return _read_tree(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @abc.abstractmethod
    def write(self, task: Task, output: str) -> None:
        """Write the shards of one task into ``output``."""


@dataclass(kw_only=True)
class _MapShard(_ShardWork):
    fn: BatchFn
    schema: pa.Schema

    def write(self, task: Task, output: str) -> None:
        """Map one shard."""
        _map_shard(self.dataset, task, self.fn, output, self.schema)


@dataclass(kw_only=True)
class _PartitionShard(_ShardWork):
    fn: PartitionFn
    names: list[str]

    def write(self, task: Task, output: str) -> None:
        """Route one shard's rows."""
        _partition_shard(self.dataset, task, self.fn, self.names, output)


@dataclass
class _AggregateShard:
    dataset: Dataset
    tasks: list[Task]
    combiner: Combiner

    def __call__(self, index: int) -> Any:
        return _aggregate_shard(self.dataset, self.tasks[index], self.combiner)


def _read_tree(folder: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                files[os.path.relpath(path, folder)] = handle.read()
    return files


class _TaskRunner:
    """The function each Spark task maps over its task number: runs the work, returns ``(task, (ok, result))``.

    Failures travel back as values (the exception and its executor traceback), so the driver raises
    the step's own exception rather than a Py4J wrapper around a Python traceback.
    """

    def __init__(self, payload: bytes, paths: list[str]) -> None:
        self.payload = payload
        self.paths = paths

    def __call__(self, task: int) -> tuple[int, tuple[bool, Any]]:
        try:
            result = self._load()(task)
        except Exception as exc:  # noqa: BLE001 -- every failure goes back to the driver, raised there
            return task, (False, _error_of(exc))
        return task, (True, result)

    def _load(self) -> Callable[[int], Any]:
        for path in reversed(self.paths):
            if path not in sys.path and os.path.isdir(path):
                sys.path.insert(0, path)
        loaded: Callable[[int], Any] = pickle.loads(self.payload)
        return loaded


def _error_of(exc: Exception) -> tuple[Exception | None, str]:
    """The exception (when it pickles) and its traceback text, to send to the driver."""
    text = "".join(traceback.format_exception(exc))
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 -- an exception that does not round-trip is sent as text
        return None, f"{type(exc).__name__}: {exc}\n{text}"
    return exc, text


def _task_error(value: tuple[BaseException | None, str]) -> BaseException:
    """The exception a task raised, to raise on the driver (its traceback from the executor as a note)."""
    exc, text = value
    if isinstance(exc, ModuleNotFoundError | AttributeError) and "pickle" in text.lower():
        return BackendError(
            f"Spark executors could not load the data function: {exc}; on a cluster, ship the project's code "
            "with conf spark.submit.pyFiles (a zip of your modules) or install it on the workers"
        )
    if exc is None:
        return BackendError(f"a Spark task failed: {text.splitlines()[0] if text else 'no details'}")
    exc.add_note(f"in a Spark executor:\n{text.rstrip()}")
    return exc


def _project_paths() -> list[str]:
    """The driver's import path minus the interpreter's own folders (executors run the same interpreter)."""
    prefixes = tuple({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})
    paths = []
    for entry in sys.path:
        full = os.path.realpath(entry or os.getcwd())
        if os.path.isdir(full) and not full.startswith(prefixes) and full not in paths:
            paths.append(full)
    return paths


def _one_line(exc: BaseException) -> str:
    """A Py4J/Spark error's first meaningful line (the JVM stack trace stays in the log)."""
    text = str(exc).strip()
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith(("An error occurred while calling", "at ", "JVM stacktrace")):
            return line[:300]
    return type(exc).__name__


# -- availability and the master ----------------------------------------------------------------------


def check_spark_installed() -> None:
    """PySpark importable and a ``java`` to run Spark's JVM.

    Raises:
        ConfigError: either is missing (names what to install).
    """
    if importlib.util.find_spec("pyspark") is None:
        raise ConfigError("SparkProcessing needs PySpark: pip install 'zenml[spark]'")
    if java_executable() is None:
        raise ConfigError(
            "SparkProcessing needs Java 17 or newer to run Spark: install a JDK (e.g. apt-get install "
            "openjdk-17-jre-headless) or set JAVA_HOME"
        )


def java_executable() -> str | None:
    """The ``java`` Spark will start: ``$JAVA_HOME/bin/java``, else the one on ``PATH``."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = os.path.join(home, "bin", "java")
        return candidate if os.access(candidate, os.X_OK) else None
    return shutil.which("java")


def _master_hosts(master: str) -> set[str]:
    """The hosts of a ``spark://`` URL (a standby list ``spark://h1:7077,h2:7077`` has several)."""
    return {(urlsplit(f"spark://{part}").hostname or "") for part in master.removeprefix("spark://").split(",")}


def probe_master(master: str) -> None:
    """Connect to each address of a ``spark://`` master; at least one must answer within seconds.

    Raises:
        ConfigError: none answers (without this, Spark retries for minutes).
    """
    problems = []
    for part in master.removeprefix("spark://").split(","):
        address = urlsplit(f"spark://{part}")
        try:
            with socket.create_connection((address.hostname or "", address.port or 7077), timeout=CONNECT_TIMEOUT):
                return
        except OSError as exc:
            problems.append(f"{part}: {exc.strerror or exc}")
    raise ConfigError(
        f"cannot reach the Spark master {master} ({'; '.join(problems)}); start it with "
        "'spark-class org.apache.spark.deploy.master.Master' or fix the master URL"
    )


# -- the session -------------------------------------------------------------------------------------


class _JvmLog:
    """The file the JVM writes its output to (one per process, created on first use)."""

    def __init__(self) -> None:
        self.path: str | None = None

    def open(self) -> Any:
        if self.path is None:
            handle, self.path = tempfile.mkstemp(prefix=f"zenml-spark-{os.getpid()}-", suffix=".log")
            os.close(handle)
        return open(self.path, "ab")

    def tail(self, lines: int = 5) -> str:
        if self.path is None or not os.path.exists(self.path):
            return ""
        with open(self.path, errors="replace") as handle:
            kept = [line.rstrip() for line in handle if line.strip()][-lines:]
        return " | ".join(kept)


_LOG = _JvmLog()
# pyspark forks the JVM's launcher with a Python ``preexec_fn``; in a process where gRPC threads run
# (Beam was used first, as in the custom-steps guide) the forked child can die before it execs Java,
# seen once in CI as JAVA_GATEWAY_EXITED with only gRPC's "epoll_wait error" in the JVM log. The fork
# is the flaky part, not Java, so a launch that exits that way is tried again; other errors are not.
_GATEWAY_LAUNCHES = 3
_LOCK = threading.Lock()
_ACTIVE: dict[str, Any] = {}  # "key" → (master, conf) of the running session, "session" → it


def session_conf(backend: SparkProcessing) -> dict[str, str]:
    """The defaults zenml sets for a session, then the user's ``conf`` over them."""
    conf = {
        "spark.app.name": "zenml",
        "spark.master": backend.master,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # executors must run this interpreter: the system python has neither pyarrow nor zenml
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
        "spark.sql.execution.pyspark.udf.faulthandler.enabled": "true",
    }
    if backend.runs_on_this_host():
        conf["spark.driver.host"] = "127.0.0.1"
        conf["spark.driver.bindAddress"] = "127.0.0.1"
    conf.update({key: _conf_text(value) for key, value in (backend.conf or {}).items()})
    return conf


def _conf_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def spark_session(backend: SparkProcessing) -> Any:
    """The Spark session of this process for the backend's master and conf, started on first use.

    One ``SparkContext`` may run per process, so a backend with another master or conf stops the
    running one first. The session is stopped when the process exits.
    """
    conf = session_conf(backend)
    key = repr(sorted(conf.items()))
    with _LOCK:
        if _ACTIVE.get("key") == key:
            return _ACTIVE["session"]
        stop_session()
        _ACTIVE["session"] = _start_session(backend, conf)
        _ACTIVE["key"] = key
        return _ACTIVE["session"]


def stop_session() -> None:
    """Stop this process's Spark session, if one runs."""
    session = _ACTIVE.pop("session", None)
    _ACTIVE.pop("key", None)
    if session is not None:
        session.stop()


def _start_session(backend: SparkProcessing, conf: dict[str, str]) -> Any:
    check_spark_installed()
    if backend.master.startswith("spark://"):
        try:
            probe_master(backend.master)
        except ConfigError as exc:
            raise BackendError(str(exc)) from exc
    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession

    spark_conf = SparkConf(loadDefaults=False).setAll(list(conf.items()))
    started = time.perf_counter()
    # SparkContext replaces the SIGINT handler with its own; Ctrl-C stays the CLI's to handle
    # (``_run_tasks`` cancels Spark's jobs when it is interrupted).
    sigint = signal.getsignal(signal.SIGINT) if threading.current_thread() is threading.main_thread() else None
    try:
        context = SparkContext(conf=spark_conf, gateway=_gateway(spark_conf))
    except Exception as exc:
        raise BackendError(
            f"cannot start Spark for master {backend.master}: {_one_line(exc)}; JVM log {_LOG.path}: {_LOG.tail()}"
        ) from exc
    finally:
        if sigint is not None:
            signal.signal(signal.SIGINT, sigint)
    if not backend.master.startswith("local"):
        _wait_for_executor(context, backend)
    elapsed = time.perf_counter() - started
    logger.debug("Spark session on %s started in %.1f s (JVM log: %s)", backend.master, elapsed, _LOG.path)
    return SparkSession(context)


def _gateway(conf: Any) -> Any:
    """The Py4J gateway to this process's JVM, launched with its output going to the log file."""
    from pyspark import SparkContext
    from pyspark.java_gateway import launch_gateway

    if SparkContext._gateway is not None:  # a stopped session's JVM is reused
        return SparkContext._gateway
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for attempt in range(1, _GATEWAY_LAUNCHES + 1):
        try:
            with _LOG.open() as log:
                gateway = launch_gateway(conf, popen_kwargs={"stdout": log, "stderr": log})
            break
        except Exception as exc:
            if "JAVA_GATEWAY_EXITED" not in str(exc) or attempt == _GATEWAY_LAUNCHES:
                raise
            logger.warning(
                "the Spark JVM exited while starting (try %d of %d); starting it again", attempt, _GATEWAY_LAUNCHES
            )
    atexit.register(stop_session)
    return gateway


def _wait_for_executor(context: Any, backend: SparkProcessing) -> None:
    """A cluster grants executors asynchronously; fail clearly if none comes instead of hanging jobs."""
    deadline = time.monotonic() + backend.startup_timeout
    while time.monotonic() < deadline:
        if context._jsc.sc().getExecutorMemoryStatus().size() > 1:  # the driver is always listed
            return
        time.sleep(0.2)
    context.stop()
    raise BackendError(
        f"the Spark master {backend.master} gave zenml no executor within {backend.startup_timeout:g} s: no worker has "
        "free cores and memory (start a worker with 'spark-class org.apache.spark.deploy.worker.Worker MASTER_URL', "
        f"or lower spark.executor.memory / spark.executor.cores); JVM log: {_LOG.path}"
    )
