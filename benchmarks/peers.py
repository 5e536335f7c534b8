"""zenml beside its peers (plain Python, Kedro, Metaflow, today's ZenML) on the peer-bench workloads.

Runs the workload files of the peer-bench folder (``ZEN_BENCH_PEERS``, default ``../shared/peer-bench``
next to the project) as fresh processes, interleaved, and prints ours beside each peer and the
ratio. Peers are timed with the venvs ``setup_venvs.sh`` made under ``ZEN_BENCH_PEERS_WORK``; a
peer whose venv is absent is skipped with a message, and the whole benchmark is skipped (not
failed) when the peer-bench folder is absent. "ours" is this interpreter's zenml.

Settings (environment): ``ZEN_BENCH_PEERS_WORKLOADS`` (default ``w2,w3,w5,w6``),
``ZEN_BENCH_PEERS_RUNS`` (timed runs per command, default 5; fan-out: 3), ``ZEN_BENCH_PEERS_K``
(runs written before W6, default 200).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.measure import BenchmarkError, clean_env, median, zen
from benchmarks.report import Figure

NAME = "peers"
ROOT = Path(__file__).resolve().parent.parent
_FIGURE = re.compile(r"\b(\w+_s)=([0-9.]+)")
#: what the peers need to run offline and quietly (the same as peer-bench's run_all.sh sets)
_PEER_ENV = {
    "KEDRO_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "ZENML_ANALYTICS_OPT_IN": "false",
    "USERNAME": "bench",
    "METAFLOW_DEFAULT_DATASTORE": "local",
    "METAFLOW_DEFAULT_METADATA": "local",
}
#: peer-bench venv name -> label
PEERS = {"base": "plain", "kedro": "kedro", "metaflow": "metaflow", "zenml": "zenml (PyPI)"}


@dataclass
class Row:
    """One workload: each label's command (argv, folder) and the wall times (or printed figures) it took."""

    workload: str
    commands: dict[str, tuple[list[str], Path]]
    figure: str | None = None  # a ``name_s`` figure the command prints, used instead of wall time
    samples: dict[str, list[float]] = field(default_factory=dict)

    def medians(self) -> dict[str, float]:
        return {label: median(values) for label, values in self.samples.items() if values}


def bench_folder() -> Path | None:
    """The peer-bench folder, or ``None`` when it is absent."""
    folder = Path(os.environ.get("ZEN_BENCH_PEERS", ROOT.parent / "shared" / "peer-bench"))
    return folder if (folder / "ours_bench.py").is_file() and (folder / "workloads.py").is_file() else None


def peer_pythons(work: Path | None) -> dict[str, str]:
    """Label -> interpreter of each peer venv found under ``work`` (plain Python falls back to this one)."""
    found: dict[str, str] = {}
    for venv, label in PEERS.items():
        python = work / f"v_{venv}" / "bin" / "python" if work is not None else None
        if python is not None and python.is_file():
            found[label] = str(python)
        elif venv == "base":
            found[label] = sys.executable
        else:
            print(f"  {label}: skipped (no venv {python or f'v_{venv}'}; make it with peer-bench's setup_venvs.sh)")
    return found


def timed(argv: Sequence[str], cwd: Path, figure: str | None) -> float:
    """Wall seconds of one fresh process (or the ``figure`` it printed).

    Raises:
        BenchmarkError: it failed, or did not print ``figure``.
    """
    env = {**clean_env(), **_PEER_ENV}
    began = time.perf_counter()
    done = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - began
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise BenchmarkError(f"{' '.join(argv)} (in {cwd}) exited {done.returncode}:\n{output.strip()[-2000:]}")
    if figure is None:
        return wall
    values = [float(value) for name, value in _FIGURE.findall(output) if name == figure]
    if not values:
        raise BenchmarkError(f"{' '.join(argv)} printed no {figure}=:\n{output.strip()[-2000:]}")
    return values[-1]


def measure(rows: list[Row], runs: int, warmups: int = 1) -> None:
    """Time every row's commands round-robin (drift hits all labels alike); warm-up rounds dropped."""
    for row in rows:
        row.samples = {label: [] for label in row.commands}
        for round_ in range(warmups + runs):
            for label, (argv, cwd) in row.commands.items():
                value = timed(argv, cwd, row.figure)
                if round_ >= warmups:
                    row.samples[label].append(value)


def prepare(bench: Path, scratch: Path, pythons: dict[str, str]) -> dict[str, Path]:
    """Folders the workloads run in: ours (``zen init``), a Kedro project, Metaflow's flow files."""
    folders = {"ours": scratch / "ours", "plain": scratch / "plain"}
    folders["ours"].mkdir(parents=True)
    folders["plain"].mkdir()
    for name in ("ours_bench.py", "workloads.py"):
        shutil.copy(bench / name, folders["ours"] / name)
    subprocess.run([zen(), "init", "."], cwd=folders["ours"], env=clean_env(), capture_output=True, check=True)
    if "kedro" in pythons:
        folders["kproj"] = scratch / "kproj"
        subprocess.run([pythons["kedro"], str(bench / "kedro_project_gen.py"), str(folders["kproj"])], check=True)
    if "metaflow" in pythons:
        folders["mf"] = scratch / "mf"
        subprocess.run([pythons["metaflow"], str(bench / "metaflow_bench.py"), "gen", str(folders["mf"])], check=True)
    if "zenml (PyPI)" in pythons:
        folders["zen"] = scratch / "zen"
        folders["zen"].mkdir()
        for name in ("zenml_bench.py", "workloads.py"):
            shutil.copy(bench / name, folders["zen"] / name)
    return folders


def rows_for(workload: str, bench: Path, pythons: dict[str, str], folders: dict[str, Path]) -> list[Row]:
    """The commands of one workload (``w2``, ``w3``, ``w5``), for ours and every peer found."""
    ours, plain = folders["ours"], folders["plain"]
    py, zen_script = sys.executable, zen()
    rows: list[Row] = []
    if workload == "w2":
        for n in (10, 50):
            commands = {
                "plain": ([pythons["plain"], str(bench / "plain_py.py"), "chain", str(n), "--root", str(plain)], plain),
                "ours script": ([py, "ours_bench.py", "chain", str(n)], ours),
                "ours zen run": ([zen_script, "run", f"ours_bench.py:chain_{n}", "-q", "--no-cache"], ours),
            }
            if "kedro" in pythons:
                kedro = str(Path(pythons["kedro"]).with_name("kedro"))
                commands["kedro run"] = ([kedro, "run", "--pipeline", f"chain_{n}"], folders["kproj"])
            if "metaflow" in pythons:
                commands["metaflow"] = ([pythons["metaflow"], f"chain_{n}.py", "run"], folders["mf"])
            if "zenml (PyPI)" in pythons:
                cmd = [pythons["zenml (PyPI)"], "zenml_bench.py", "chain", str(n)]
                commands["zenml (PyPI)"] = (cmd, folders["zen"])
            rows.append(Row(f"W2 {n}-step chain", commands))
    elif workload == "w3":
        for argv in ([py, "ours_bench.py", "chain", "10", "cache"],):  # the first run fills the cache
            subprocess.run(argv, cwd=ours, env=clean_env(), capture_output=True, check=True)
        commands = {
            "ours script": ([py, "ours_bench.py", "chain", "10", "cache"], ours),
            "ours zen run": ([zen_script, "run", "ours_bench.py:chain_10", "-q"], ours),
        }
        if "metaflow" in pythons:
            subprocess.run(
                [pythons["metaflow"], "chain_10.py", "run"],
                cwd=folders["mf"],
                env={**clean_env(), **_PEER_ENV},
                capture_output=True,
                check=True,
            )
            commands["metaflow resume"] = ([pythons["metaflow"], "chain_10.py", "resume"], folders["mf"])
        rows.append(Row("W3 cached 10-step re-run", commands))
    elif workload == "w5":
        commands = {
            "plain Pool(2)": ([pythons["plain"], str(bench / "plain_py.py"), "fanout", "pool"], plain),
            "plain sequential": ([pythons["plain"], str(bench / "plain_py.py"), "fanout", "seq"], plain),
            "ours parallel": ([py, "ours_bench.py", "fanout", "parallel"], ours),
            "ours dask": ([py, "ours_bench.py", "fanout", "dask"], ours),
            "ours local": ([py, "ours_bench.py", "fanout", "local"], ours),
        }
        if "kedro" in pythons:
            commands["kedro ParallelRunner(2)"] = (
                [pythons["kedro"], str(bench / "kedro_bench.py"), "fanout", "parallel"],
                plain,
            )
        rows.append(Row("W5 fan-out 8 x 1 s + join", commands))
    return rows


def w6_rows(bench: Path, pythons: dict[str, str], folders: dict[str, Path], k: int) -> list[Row]:
    """W6: after ``k`` runs of the 10-step chain, list the runs and load the last run's outputs (in process)."""
    ours, plain = folders["ours"], folders["plain"] / "w6"
    subprocess.run(
        [sys.executable, "ours_bench.py", "many", str(k)], cwd=ours, env=clean_env(), capture_output=True, check=True
    )
    for _ in range(k):
        argv = [pythons["plain"], str(bench / "plain_py.py"), "chain", "10", "--root", str(plain)]
        subprocess.run(argv, env=clean_env(), capture_output=True, check=True)
    plain_meta = [pythons["plain"], str(bench / "plain_py.py"), "meta", "--root", str(plain)]
    ours_meta = [sys.executable, "ours_bench.py", "meta"]
    return [
        Row(f"W6 list {k} runs (in process)", {"plain": (plain_meta, plain), "ours": (ours_meta, ours)}, "list_s"),
        Row(
            "W6 load the last run's outputs", {"plain": (plain_meta, plain), "ours": (ours_meta, ours)}, "fetch_last_s"
        ),
    ]


#: (workload row, ours label, target seconds or ratio, what the ratio is against)
TARGETS: list[tuple[str, str, float, str | None]] = [
    ("W2 10-step chain", "ours script", 0.30, None),
    ("W2 10-step chain", "ours zen run", 0.30, None),
    ("W3 cached 10-step re-run", "ours script", 0.30, None),
    ("W3 cached 10-step re-run", "ours zen run", 0.30, None),
    ("W5 fan-out 8 x 1 s + join", "ours parallel", 1.10, "plain Pool(2)"),
    ("W5 fan-out 8 x 1 s + join", "ours dask", 1.25, "plain Pool(2)"),
    ("W5 fan-out 8 x 1 s + join", "ours local", 1.03, "plain sequential"),
]


def print_rows(rows: list[Row]) -> None:
    """Each workload: every label's median, and ours over each peer."""
    for row in rows:
        values = row.medians()
        unit = "ms" if row.figure else "s"
        scale = 1000.0 if row.figure else 1.0
        print(f"\n{row.workload}" + (f" ({row.figure})" if row.figure else " (whole process, median)"))
        ours = {label: value for label, value in values.items() if label.startswith("ours")}
        for label, value in values.items():
            ratios = (
                ""
                if label in ours or value <= 0
                else "   " + ", ".join(f"{mine}/{label} {ours_value / value:.2f}x" for mine, ours_value in ours.items())
            )
            print(f"  {label:<26} {value * scale:9.3f} {unit}{ratios}")


def per_step(rows: list[Row]) -> list[Figure]:
    """Per extra step, (50-step - 10-step) / 40, of every label with both chains."""
    by_name = {row.workload: row.medians() for row in rows}
    short, long = by_name.get("W2 10-step chain"), by_name.get("W2 50-step chain")
    if not short or not long:
        return []
    print("\nW2 per extra step, (50-step - 10-step) / 40")
    figures = []
    for label in short:
        if label in long:
            value = (long[label] - short[label]) / 40 * 1000
            print(f"  {label:<26} {value:9.2f} ms")
            if label.startswith("ours"):
                figures.append(Figure(NAME, f"W2 per extra step, {label}", value, "ms", target=1.0))
    return figures


def targets(rows: list[Row]) -> list[Figure]:
    """The issue's targets: absolute seconds, or ratios against plain Python."""
    by_name = {row.workload: row.medians() for row in rows}
    figures = []
    for workload, label, target, against in TARGETS:
        values = by_name.get(workload)
        if not values or label not in values:
            continue
        if against is None:
            figures.append(Figure(NAME, f"{workload}, {label}", values[label], "s", target=target))
        elif against in values:
            figures.append(
                Figure(NAME, f"{workload}, {label} / {against}", values[label] / values[against], "x", target=target)
            )
    for row in rows:
        if row.figure and "ours" in row.samples:
            figures.append(Figure(NAME, f"{row.workload}, ours", row.medians()["ours"] * 1000, "ms", target=5.0))
    return figures


def run() -> list[Figure]:
    bench = bench_folder()
    if bench is None:
        where = os.environ.get("ZEN_BENCH_PEERS", ROOT.parent / "shared" / "peer-bench")
        print(f"  skipped: no peer-bench folder at {where} (set ZEN_BENCH_PEERS to the folder holding ours_bench.py)")
        return [Figure(NAME, "peer-bench workloads", None, "s", note=f"no peer-bench folder at {where}")]
    work_setting = os.environ.get("ZEN_BENCH_PEERS_WORK")
    pythons = peer_pythons(Path(work_setting) if work_setting else None)
    workloads = [
        name.strip() for name in os.environ.get("ZEN_BENCH_PEERS_WORKLOADS", "w2,w3,w5,w6").split(",") if name.strip()
    ]
    runs = int(os.environ.get("ZEN_BENCH_PEERS_RUNS", "5"))
    print(f"  peer-bench: {bench}; labels: ours, {', '.join(pythons)}; workloads: {', '.join(workloads)}")
    with tempfile.TemporaryDirectory(prefix="zen-bench-peers-") as tmp:
        folders = prepare(bench, Path(tmp), pythons)
        rows: list[Row] = []
        for workload in workloads:
            if workload == "w6":
                chosen = w6_rows(bench, pythons, folders, int(os.environ.get("ZEN_BENCH_PEERS_K", "200")))
                measure(chosen, runs)
            else:
                chosen = rows_for(workload, bench, pythons, folders)
                measure(chosen, min(runs, 3) if workload == "w5" else runs)
            print_rows(chosen)
            rows += chosen
    return per_step(rows) + targets(rows)


if __name__ == "__main__":
    for figure in run():
        print(figure)
