"""``SparkProcessing`` as users meet it: ``zen run --processing spark`` on a real standalone cluster, and bad input.

The data-step suites (tests/data) run every processing test and the parity suite on Spark
``local[2]`` too; here are the cluster, the shipping of shards from executors on other hosts,
and what a user gets when the master, Java or PySpark is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

import pyarrow as pa
import pytest
from spark_cluster import StandaloneCluster, free_port

from zenml.exceptions import ConfigError

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(not (find_spec("pyspark") and shutil.which("java")), reason="PySpark or Java is not installed"),
]

ZEN = str(Path(sys.executable).parent / "zen")

FLOW = textwrap.dedent(
    """
    import os, sys

    import pyarrow as pa

    from zenml.artifacts.dataset import Dataset
    from zenml.datasources import CSVDatasource
    from zenml.pipelines import SimplePipeline
    from zenml.steps.base import BaseStep
    from zenml.steps.context import StepContext
    from zenml.steps.preprocessor import StandardPreprocessor
    from zenml.steps.split import RandomSplit


    def where_it_ran(batch: pa.RecordBatch) -> pa.RecordBatch:
        rows = batch.num_rows
        return pa.RecordBatch.from_pydict({
            "id": batch.column("id"),
            "python": pa.array([sys.executable] * rows, pa.string()),
            "pid": pa.array([os.getpid()] * rows, pa.int64()),
        })


    class WhereItRan(BaseStep):
        def process(self, data: Dataset, context: StepContext) -> Dataset:
            return context.processing.map_batches(data, where_it_ran, context.new_path("where"))


    p = SimplePipeline(name="sp")
    p.add_datasource(CSVDatasource(path="data.csv"))
    p.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=3))
    p.add_preprocessor(StandardPreprocessor(labels=["label"]))
    p.add_step("where", WhereItRan(), inputs={"data": "split.data"})
    """
)


def zen(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ZEN, *args], cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "TERM": "dumb", **(env or {})}, check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository with ``flow.py`` and a 3,000-row CSV (numbers, a category, a 0/1 label)."""
    rows = ["id,x,city,label"] + [f"{i},{(i * 37) % 101 / 7:.4f},{['rome', 'oslo', 'lima'][i % 3]},{i % 2}"
                                  for i in range(3000)]
    (tmp_path / "data.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "flow.py").write_text(FLOW)
    assert zen("init", ".", cwd=tmp_path).returncode == 0
    return tmp_path


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneCluster]:
    started = StandaloneCluster(tmp_path_factory.mktemp("spark-cluster"), workers=1, cores=2)
    yield started
    started.stop()


def _runs(root: Path) -> list:
    from zenml.repository import Repository

    return Repository(root).runs(pipeline="sp")


@pytest.mark.timeout(300)
def test_a_standalone_cluster_computes_what_local_computed(project: Path, cluster: StandaloneCluster) -> None:
    local = zen("run", "flow.py:p", cwd=project)
    assert local.returncode == 0, local.stderr
    on_cluster = zen("run", "flow.py:p", "--no-cache", "--processing", "spark",
                     "--backend-opt", f"processing.master={cluster.url}", cwd=project)
    assert on_cluster.returncode == 0, on_cluster.stderr
    assert "(4 completed)" in on_cluster.stdout
    # Spark's JVM output (log4j, JDK notices) goes to a log file, not to the user's terminal
    for noise in ("log4j", "WARN", "Using Spark", "incubator", "NativeCodeLoader"):
        assert noise not in on_cluster.stdout + on_cluster.stderr
    spark_run, local_run = _runs(project)
    assert spark_run.spec.backends.processing.params["master"] == cluster.url
    for step in ("split", "preprocessor"):  # the same bytes: executors run the shard functions of LocalProcessing
        assert spark_run.steps[step].outputs["data"].content_hash == local_run.steps[step].outputs["data"].content_hash
    where = spark_run.steps["where"].outputs["output"].read().to_pandas()
    assert set(where["python"]) == {sys.executable}, "executors run the driver's interpreter"
    assert len(where) == 3000
    assert cluster.alive_workers() == 1


def test_shards_travel_back_when_executors_cannot_see_the_output_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Executors on another host cannot write into this machine's folder: each task ships its shard files back."""
    from zenml.artifacts.dataset import Dataset
    from zenml.backends.processing.local import LocalProcessing
    from zenml.backends.processing.spark import SparkProcessing

    table = pa.table({"id": list(range(1000)), "v": [i / 3 for i in range(1000)]})
    source = Dataset.from_tables(str(tmp_path / "in"), {"a": table.slice(0, 600), "b": table.slice(600)})
    spark = SparkProcessing(master="local[2]")
    # as with executors on another host (a local master, so the test needs no cluster)
    monkeypatch.setattr(SparkProcessing, "runs_on_this_host", lambda self: False)

    def add_one(batch: pa.RecordBatch) -> pa.RecordBatch:
        return pa.RecordBatch.from_arrays([batch.column("id"), pa.compute.add(batch.column("v"), 1.0)], ["id", "v"])

    spark.map_batches(source, add_one, str(tmp_path / "shipped"))
    expected = LocalProcessing().map_batches(source, add_one, str(tmp_path / "local"))
    for split in ("a", "b"):
        shipped = sorted(os.listdir(tmp_path / "shipped" / split))
        assert shipped == sorted(os.listdir(tmp_path / "local" / split))
        for name in shipped:
            shipped_bytes = (tmp_path / "shipped" / split / name).read_bytes()
            assert shipped_bytes == (tmp_path / "local" / split / name).read_bytes()
    assert expected.num_rows() == 1000

    def by_parity(batch: pa.RecordBatch) -> object:
        return (batch.column("id").to_numpy() % 2).astype("int64")

    parts = spark.partition(source, by_parity, ["even", "odd"], str(tmp_path / "parts"))
    assert sorted(path.name for path in (tmp_path / "parts").iterdir() if path.is_dir()) == ["even", "odd"]
    assert parts.num_rows() == 1000


@pytest.mark.parametrize(
    ("master", "local"),
    [
        ("local[*]", True),
        ("local[2]", True),
        ("spark://127.0.0.1:7077", True),
        ("spark://localhost:7077", True),
        ("spark://spark-master.internal:7077", False),
        ("spark://10.1.2.3:7077,127.0.0.1:7077", False),
        ("yarn", False),
    ],
)
def test_which_masters_share_this_hosts_folders(master: str, local: bool) -> None:
    from zenml.backends.processing.spark import SparkProcessing

    assert SparkProcessing(master=master).runs_on_this_host() is local


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"master": "spark:/host"}, "is not a master URL"),
        ({"master": "local[two]"}, "is not a master URL"),
        ({"conf": {"spark.executor.memory": ["4g"]}}, "must be a string, number or boolean"),
        ({"startup_timeout": 0}, "must be positive"),
    ],
)
def test_bad_parameters_are_refused(params: dict[str, object], message: str) -> None:
    from zenml.backends.processing.spark import SparkProcessing

    with pytest.raises(ConfigError, match=message):
        SparkProcessing(**params).validate()  # type: ignore[arg-type]


def _assert_refused(result: subprocess.CompletedProcess[str], project: Path, *needles: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "at org.apache" not in result.stderr
    assert all(needle in result.stderr for needle in needles), result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) <= 2
    assert _runs(project) == [], "bad input records nothing"


@pytest.mark.timeout(60)
def test_an_unreachable_master_is_refused_within_seconds(project: Path) -> None:
    result = zen("run", "flow.py:p", "--processing", "spark",
                 "--backend-opt", f"processing.master=spark://127.0.0.1:{free_port()}", cwd=project)
    _assert_refused(result, project, "cannot reach the Spark master", "spark-class")


def test_a_master_on_another_host_needs_a_shared_artifact_store(project: Path) -> None:
    result = zen("run", "flow.py:p", "--processing", "spark",
                 "--backend-opt", "processing.master=spark://spark-master.invalid:7077", cwd=project)
    _assert_refused(result, project, "the artifact store is a local folder", "s3://")


def test_missing_java_is_bad_input(project: Path) -> None:
    result = zen("run", "flow.py:p", "--processing", "spark", cwd=project, env={"JAVA_HOME": str(project / "no-jdk")})
    _assert_refused(result, project, "needs Java 17", "JAVA_HOME")


BLOCKED = "import sys; sys.modules[{module!r}] = None; from zenml.cli.app import main; sys.exit(main(sys.argv[1:]))"


def test_missing_pyspark_is_bad_input_even_when_every_step_is_cached(project: Path) -> None:
    assert zen("run", "flow.py:p", cwd=project).returncode == 0  # every step is now in the cache
    result = subprocess.run([sys.executable, "-c", BLOCKED.format(module="pyspark"), "run", "flow.py:p",
                             "--processing", "spark"], cwd=project, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "pip install 'zenml[spark]'" in result.stderr
    assert len(_runs(project)) == 1


def test_missing_beam_is_bad_input_even_when_every_step_is_cached(project: Path) -> None:
    assert zen("run", "flow.py:p", cwd=project).returncode == 0
    result = subprocess.run([sys.executable, "-c", BLOCKED.format(module="apache_beam"), "run", "flow.py:p",
                             "--processing", "beam"], cwd=project, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "pip install 'zenml[beam]'" in result.stderr
    assert len(_runs(project)) == 1


@pytest.mark.timeout(120)
def test_a_master_without_workers_fails_the_step_instead_of_hanging(tmp_path: Path, project: Path) -> None:
    empty = StandaloneCluster(tmp_path / "empty", workers=0)
    try:
        result = zen("run", "flow.py:p", "--processing", "spark", "--backend-opt", f"processing.master={empty.url}",
                     "--backend-opt", "processing.startup_timeout=3", cwd=project)
    finally:
        empty.stop()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "gave zenml no executor within 3 s" in result.stdout + result.stderr
    (run,) = _runs(project)
    assert run.status == "failed"


def _small_dataset(folder: Path) -> object:
    from zenml.artifacts.dataset import Dataset

    return Dataset.from_tables(str(folder), {"all": pa.table({"id": list(range(100))})})


def test_a_data_function_error_is_raised_as_itself_with_the_executor_traceback(tmp_path: Path) -> None:
    from zenml.backends.processing.spark import SparkProcessing

    def picky(batch: pa.RecordBatch) -> pa.RecordBatch:
        if batch.num_rows and max(batch.column("id").to_pylist()) > 50:
            raise ValueError("ids above 50 are not allowed")
        return batch

    with pytest.raises(ValueError, match="ids above 50 are not allowed") as raised:
        SparkProcessing(master="local[2]").map_batches(_small_dataset(tmp_path / "in"), picky, str(tmp_path / "out"))
    assert any("in a Spark executor" in note and "picky" in note for note in raised.value.__notes__)


def test_lambdas_and_closures_run_on_executors(tmp_path: Path) -> None:
    from zenml.backends.processing.spark import SparkProcessing

    offset = 1000
    result = SparkProcessing(master="local[2]").map_batches(
        _small_dataset(tmp_path / "in"),
        lambda batch: pa.RecordBatch.from_arrays([pa.compute.add(batch.column("id"), offset)], ["id"]),
        str(tmp_path / "out"),
    )
    assert sorted(result.to_pandas()["id"]) == list(range(1000, 1100))


JVM_DIES_ONCE = textwrap.dedent(
    """
    import os

    import pyspark.java_gateway as java_gateway

    from zenml.backends.processing.spark import SparkProcessing, spark_session

    real_launch = java_gateway.launch_gateway
    launches = []


    def launch_that_dies_first(conf=None, popen_kwargs=None):
        # The first launch gets a spark-submit option that does not exist, so the real launcher
        # process exits before the JVM reports its port: the JAVA_GATEWAY_EXITED a dying fork gives.
        launches.append(1)
        os.environ["PYSPARK_SUBMIT_ARGS"] = "--no-such-option pyspark-shell" if len(launches) == 1 else "pyspark-shell"
        return real_launch(conf, popen_kwargs)


    java_gateway.launch_gateway = launch_that_dies_first
    session = spark_session(SparkProcessing(master="local[1]"))
    print("launches", len(launches), "sum", session.sparkContext.parallelize(range(4)).sum())
    """
)


def test_a_jvm_launch_that_exits_early_is_tried_again(tmp_path: Path) -> None:
    """The JVM's launcher dying before it reports its port (a flaky fork) costs one retry, not the run."""
    script = tmp_path / "dies_once.py"
    script.write_text(JVM_DIES_ONCE)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "launches 2 sum 6" in result.stdout
    assert "the Spark JVM exited while starting (try 1 of 3)" in result.stderr
