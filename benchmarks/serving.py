"""``serving``: ``zen serve`` of a bundle against a hand-written FastAPI endpoint calling the same model.

A scikit-learn logistic regression trained on breast-cancer data through the pipeline is exported
as a bundle and served by ``zen serve BUNDLE --no-access-log``; ``benchmarks.serving_baseline``
serves the same fitted estimator (and the same z-scoring) by hand under the same uvicorn. Both
run as separate processes on loopback; 8 concurrent keep-alive clients (a raw asyncio HTTP/1.1
loop in this process, so the client costs little) send single-row and 100-row requests for a
few seconds each, interleaved, after a warm-up. Throughput is the better of the rounds;
latencies are over all timed requests.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.measure import clean_env, zen
from benchmarks.report import Figure, print_table

CLIENTS, SECONDS, WARMUP, ROUNDS = 8, 4.0, 1.0, 2
TARGET = 0.9
_LENGTH = re.compile(rb"content-length: *(\d+)", re.IGNORECASE)


def _train(root: Path) -> tuple[Path, list[dict[str, Any]]]:
    """A breast-cancer run exported as a bundle under ``root``, the baseline's files, and the CSV rows."""
    import pandas as pd
    from sklearn.datasets import load_breast_cancer
    from zenml_sklearn import SklearnTrainer

    from zenml.datasources import CSVDatasource
    from zenml.engine import run_pipeline
    from zenml.pipelines import SimplePipeline
    from zenml.repository import Repository, close_stores
    from zenml.serving import export_bundle, load_bundle
    from zenml.steps.evaluator import ClassificationEvaluator
    from zenml.steps.preprocessor import StandardPreprocessor
    from zenml.steps.split import RandomSplit

    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "malignant"})
    frame["malignant"] = 1 - frame["malignant"]
    frame.columns = [column.replace(" ", "_") for column in frame.columns]
    frame.to_csv(root / "cancer.csv", index=False)
    repository = Repository.init(root)
    flow = SimplePipeline(name="bench_serving")
    flow.add_datasource(CSVDatasource(path=str(root / "cancer.csv")))
    flow.add_split(RandomSplit(ratios={"train": 0.8, "eval": 0.2}, seed=1))
    flow.add_preprocessor(StandardPreprocessor(labels=["malignant"]))
    flow.add_trainer(SklearnTrainer())
    flow.add_evaluator(ClassificationEvaluator(label="malignant", metrics=["accuracy"]))
    try:
        run = run_pipeline(flow, repository=repository)
        bundle_dir = Path(export_bundle(run, str(root / "bundle")))
        estimator = run.steps["trainer"].outputs["model"].read().estimator()
        plans = run.steps["preprocessor"].outputs["transform"].read()["state"]["columns"]
    finally:
        close_stores()
    features = [field.name for field in load_bundle(str(bundle_dir)).input_schema]
    classes = load_bundle(str(bundle_dir)).classes or []
    scaling = {"features": features, "classes": classes,
               "mean": [plans[name]["mean"] for name in features], "std": [plans[name]["std"] for name in features]}
    (root / "baseline").mkdir()
    (root / "baseline" / "scaling.json").write_text(json.dumps(scaling))
    (root / "baseline" / "model.pkl").write_bytes(pickle.dumps(estimator))
    rows = json.loads(pd.read_csv(root / "cancer.csv").drop(columns=["malignant"]).to_json(orient="records"))
    return bundle_dir, rows


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(command: list[str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """Start a server writing its output to ``log`` (a pipe nobody reads would stall it); wait for /health."""
    import httpx

    with log.open("wb") as output:
        process = subprocess.Popen(command, env=clean_env(), stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{' '.join(command)} exited {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{' '.join(command)} did not answer /health in 120 s")


def _request(body: bytes) -> bytes:
    head = (f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _client(port: int, request: bytes, until: float, timed_from: float, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (started := time.perf_counter()) < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = _LENGTH.search(head)
            body = await reader.readexactly(int(length.group(1)) if length else 0)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"{head.splitlines()[0].decode()}: {body[:300].decode()}")
            if started >= timed_from:
                latencies.append(time.perf_counter() - started)
    finally:
        writer.close()


def _load(port: int, request: bytes) -> tuple[float, list[float]]:
    """Requests per second and the latencies of ``CLIENTS`` keep-alive clients for ``SECONDS``."""
    latencies: list[float] = []

    async def drive() -> None:
        now = time.perf_counter()
        timed_from, until = now + WARMUP, now + WARMUP + SECONDS
        await asyncio.gather(*(_client(port, request, until, timed_from, latencies) for _ in range(CLIENTS)))

    asyncio.run(drive())
    return len(latencies) / SECONDS, latencies


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _agree(zen_port: int, base_port: int, rows: list[dict[str, Any]], root: Path) -> float:
    """The largest score difference between the two servers on the same 100 rows (predictions must match)."""
    import httpx

    body = {"rows": rows[:100]}
    ours = httpx.post(f"http://127.0.0.1:{zen_port}/predict", json=body, timeout=60).json()["predictions"]
    answer = httpx.post(f"http://127.0.0.1:{base_port}/predict", json=body, timeout=60)
    if answer.status_code != 200:
        raise RuntimeError(f"the hand-written endpoint answered {answer.status_code}: {answer.text[:300]}\n"
                           f"{(root / 'by-hand.log').read_text()[-2000:]}")
    theirs = answer.json()["predictions"]
    if [row["prediction"] for row in ours] != [row["prediction"] for row in theirs]:
        raise RuntimeError("zen serve and the hand-written endpoint disagree on predictions: not the same model")
    return max(abs(a["score"] - b["score"]) for a, b in zip(ours, theirs, strict=True))


def run() -> list[Figure]:
    """Throughput and p50/p99 of ``zen serve`` and the hand-written endpoint, 1-row and 100-row requests."""
    with tempfile.TemporaryDirectory(prefix="zen-bench-serving-") as folder:
        root = Path(folder)
        bundle_dir, rows = _train(root)
        zen_port, base_port = _free_port(), _free_port()
        servers = {
            "zen serve": _start([zen(), "serve", str(bundle_dir), "--port", str(zen_port), "--no-access-log"],
                                zen_port, root / "zen-serve.log"),
            "by hand": _start([sys.executable, "-m", "benchmarks.serving_baseline", str(root / "baseline"),
                               str(base_port)], base_port, root / "by-hand.log"),
        }
        ports = {"zen serve": zen_port, "by hand": base_port}
        try:
            difference = _agree(zen_port, base_port, rows, root)
            results: dict[tuple[str, int], list[tuple[float, list[float]]]] = {}
            for _ in range(ROUNDS):
                for size in (1, 100):
                    request = _request(json.dumps({"rows": rows[:size]}).encode())
                    for name in servers:
                        results.setdefault((name, size), []).append(_load(ports[name], request))
        finally:
            for process in servers.values():
                process.terminate()
                process.wait(timeout=30)
    return _report(results, difference)


def _report(results: dict[tuple[str, int], list[tuple[float, list[float]]]], difference: float) -> list[Figure]:
    figures: list[Figure] = []
    table: list[list[str]] = []
    best: dict[tuple[str, int], float] = {}
    for (name, size), samples in results.items():
        best[(name, size)] = max(throughput for throughput, _ in samples)
        latencies = [latency for _, values in samples for latency in values]
        p50, p99 = _percentile(latencies, 0.5) * 1000, _percentile(latencies, 0.99) * 1000
        rounds = ", ".join(f"{throughput:.0f}" for throughput, _ in samples)
        table.append([name, str(size), f"{best[(name, size)]:.0f} ({rounds})", f"{p50:.2f}", f"{p99:.2f}"])
        label = f"{name}, {size}-row requests"
        figures += [
            Figure("serving", f"{label}: throughput", best[(name, size)], "req/s", better="higher"),
            Figure("serving", f"{label}: p50 latency", p50, "ms"),
            Figure("serving", f"{label}: p99 latency", p99, "ms"),
        ]
    print_table(["server", "rows/request", "req/s best (rounds)", "p50 ms", "p99 ms"], table)
    print(f"{CLIENTS} concurrent clients, {SECONDS:.0f} s per round after {WARMUP:.0f} s warm-up; "
          f"largest score difference between the two servers: {difference:.2g}")
    for size in (1, 100):
        ratio = best[("zen serve", size)] / best[("by hand", size)]
        figures.append(Figure("serving", f"zen serve / by hand throughput, {size}-row requests", ratio, "x",
                              target=TARGET, better="higher"))
    return figures
