"""``data``: ingest + statistics + random split + standard preprocessing of a 1,000,000 x 20 CSV.

zenml on ``LocalProcessing`` against a hand-written pandas script doing the same work (read,
profile each split, hash-based random split, z-score / vocabulary encoding fitted on train,
Parquet out), both as fresh processes; peak RSS of each; and the same pipeline on Beam's
DirectRunner for reference. Set ``ZEN_BENCH_DATA_ROWS`` for a smaller run.

Spark (``local[2]``): the pipeline as a fresh ``zen run`` process like the others, then, in one
process, Spark's start-up (the session, then a first tiny job that warms the JVM and the Python
workers) apart from the work: the pipeline runs twice on Spark and twice on ``LocalProcessing``,
interleaved, and the second run of each is the steady state. Their ratio, for the whole pipeline
and for the two steps that run on the backend (split and preprocessor), is held against 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.measure import clean_env
from benchmarks.report import Figure, print_table

ROWS = int(os.environ.get("ZEN_BENCH_DATA_ROWS", "1000000"))
TARGET_RATIO = 1.5
SPARK_TARGET_RATIO = 2.0

STEADY = """
import json, time
from zenml.backends.processing import LocalProcessing, SparkProcessing
from zenml.backends.processing.spark import spark_session
from big_pipeline import big

spark = SparkProcessing(master="local[2]")
began = time.perf_counter(); session = spark_session(spark); started = time.perf_counter() - began
began = time.perf_counter(); session.sparkContext.parallelize(range(2), 2).map(abs).collect()
warmed = time.perf_counter() - began
times = {"spark": [], "local": [], "spark_steps": [], "local_steps": []}
for _ in range(2):
    for name, backend in (("spark", spark), ("local", LocalProcessing())):
        began = time.perf_counter()
        run = big.run(processing=backend, enable_cache=False)
        times[name].append(time.perf_counter() - began)
        times[name + "_steps"].append(sum(run.steps[s].record.duration for s in ("split", "preprocessor")))
print(json.dumps({"start": started, "warm": warmed, **times}))
"""

GENERATE = """
import numpy as np, pandas as pd, sys
rng = np.random.default_rng(0); n = int(sys.argv[1])
columns = {f"n{i}": rng.normal(i, 1 + i, n) for i in range(12)}
for i in range(8):
    columns[f"c{i}"] = rng.choice([f"v{j}" for j in range(5 + i * 3)], n)
frame = pd.DataFrame(columns); frame.loc[::97, "n0"] = np.nan
frame.to_csv("big.csv", index=False)
print(frame.memory_usage(deep=True).sum())
"""

PIPELINE = """
from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit

big = SimplePipeline(name="big")
big.add_datasource(CSVDatasource(path="big.csv"))
big.add_split(RandomSplit(ratios={"train": 0.8, "eval": 0.2}, seed=1))
big.add_preprocessor(StandardPreprocessor())
"""

PANDAS = """
import numpy as np, pandas as pd
df = pd.read_csv("big.csv")
num = df.select_dtypes("number").columns; cat = df.select_dtypes(exclude="number").columns
h = pd.util.hash_pandas_object(df, index=False, hash_key="0000000000000001").to_numpy()
u = (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)
parts = {"train": df[u < 0.8], "eval": df[u >= 0.8]}
for part in parts.values():
    part[num].describe(percentiles=[.01, .05, .25, .5, .75, .95, .99])
    [part[c].value_counts() for c in cat]; [np.histogram(part[c].dropna(), 10) for c in num]
train = parts["train"]; mean = train[num].mean(); std = train[num].std(ddof=0)
vocab = {c: {v: i + 1 for i, v in enumerate(train[c].value_counts().index)} for c in cat}
for name, part in parts.items():
    out = part.copy(); out[num] = (out[num].fillna(mean) - mean) / std
    for c in cat:
        out[c] = out[c].map(vocab[c]).fillna(0).astype("int64")
    out.to_parquet(f"{name}.parquet")
"""


def _timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a fresh process."""
    started = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-f", "%M", *command], cwd=cwd, env=clean_env(), capture_output=True,
                            text=True, check=True)
    wall = time.perf_counter() - started
    peak_kb = int(result.stderr.strip().splitlines()[-1])
    return wall, peak_kb / 1000


def run() -> list[Figure]:
    """Best of two runs each (the first warms the page cache)."""
    zen = str(Path(sys.executable).parent / "zen")
    with tempfile.TemporaryDirectory(prefix="zen-bench-data-") as tmp:
        root = Path(tmp)
        generated = subprocess.run([sys.executable, "-c", GENERATE, str(ROWS)], cwd=root, check=True,
                                   capture_output=True, text=True)
        frame_mb = int(generated.stdout.strip()) / 1e6
        subprocess.run([zen, "init", "."], cwd=root, env=clean_env(), check=True, capture_output=True)
        (root / "big_pipeline.py").write_text(PIPELINE)
        (root / "by_hand.py").write_text(PANDAS)
        ours = min(_timed([zen, "run", "big_pipeline.py:big", "--no-cache", "-q"], root) for _ in range(2))
        pandas = min(_timed([sys.executable, "by_hand.py"], root) for _ in range(2))
        beam = _timed([zen, "run", "big_pipeline.py:big", "--no-cache", "-q", "--processing", "beam"], root)
        spark = _timed([zen, "run", "big_pipeline.py:big", "--no-cache", "-q", "--processing", "spark",
                        "--backend-opt", "processing.master=local[2]"], root)
        steady = json.loads(subprocess.run([sys.executable, "-c", STEADY], cwd=root, env=clean_env(), check=True,
                                           capture_output=True, text=True).stdout.strip().splitlines()[-1])
    figures = [
        Figure("data", "zenml local / pandas (wall)", ours[0] / pandas[0], "x", TARGET_RATIO),
        Figure("data", "zenml local peak memory / DataFrame size", ours[1] / frame_mb, "x", 2.0),
        Figure("data", "zenml local", ours[0], "s"),
        Figure("data", "pandas script", pandas[0], "s"),
        Figure("data", "zenml on Beam DirectRunner", beam[0], "s"),
        Figure("data", "zenml on Spark local[2] (fresh process, start-up included)", spark[0], "s"),
        Figure("data", "Spark start-up: session", steady["start"], "s"),
        Figure("data", "Spark start-up: first job (JVM and Python workers warming up)", steady["warm"], "s"),
        Figure("data", "steady state: Spark / local, whole pipeline", steady["spark"][1] / steady["local"][1], "x",
               SPARK_TARGET_RATIO),
        Figure("data", "steady state: Spark / local, split + preprocessor", steady["spark_steps"][1]
               / steady["local_steps"][1], "x", SPARK_TARGET_RATIO),
        Figure("data", "steady state: Spark, whole pipeline", steady["spark"][1], "s"),
        Figure("data", "steady state: local, whole pipeline", steady["local"][1], "s"),
    ]
    print_table(["figure", "value", "target"], [[f.name, f"{f.value:.2f} {f.unit}", f"{f.target or '-'}"]
                                                 for f in figures])
    print(f"peak RSS: zenml {ours[1]:.0f} MB, pandas {pandas[1]:.0f} MB, Beam {beam[1]:.0f} MB, "
          f"Spark driver {spark[1]:.0f} MB (its JVM not included); "
          f"DataFrame in memory {frame_mb:.0f} MB; {ROWS:,} rows")
    return figures
