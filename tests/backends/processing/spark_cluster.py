"""A real Spark standalone cluster on 127.0.0.1, started with PySpark's own ``spark-class`` launcher."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def spark_class() -> str:
    import pyspark

    return str(Path(pyspark.__file__).parent / "bin" / "spark-class")


class StandaloneCluster:
    """A master and ``workers`` workers (each ``cores`` cores, 1 GB) as child processes; ``stop()`` ends them."""

    def __init__(self, folder: Path, *, workers: int = 1, cores: int = 2) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port, self.ui_port = free_port(), free_port()
        self.url = f"spark://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen[bytes]] = []
        self._start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                    str(self.port), "--webui-port", str(self.ui_port))
        self._wait(lambda: self._status() is not None, "the master to listen")
        for index in range(workers):
            self._start(f"worker{index}", "org.apache.spark.deploy.worker.Worker", self.url, "--host", "127.0.0.1",
                        "--cores", str(cores), "--memory", "1g", "--webui-port", str(free_port()),
                        "--work-dir", str(folder / f"work{index}"))
        self._wait(lambda: self.alive_workers() == workers, f"{workers} worker(s) to register")

    def _start(self, name: str, main_class: str, *args: str) -> None:
        env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_NO_DAEMONIZE": "1"}
        with open(self.folder / f"{name}.log", "wb") as log:  # the child keeps its own descriptor
            self.processes.append(subprocess.Popen([spark_class(), main_class, *args], stdout=log, stderr=log,
                                                   env=env, start_new_session=True))

    def _status(self) -> dict[str, object] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.ui_port}/json/", timeout=2) as response:
                status: dict[str, object] = json.load(response)
                return status
        except OSError:
            return None

    def alive_workers(self) -> int:
        status = self._status() or {}
        workers = status.get("workers", [])
        return sum(1 for worker in workers if isinstance(worker, dict) and worker.get("state") == "ALIVE")

    def _wait(self, ready: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            if any(process.poll() is not None for process in self.processes):
                break
            time.sleep(0.3)
        logs = {path.name: path.read_text(errors="replace")[-800:] for path in self.folder.glob("*.log")}
        self.stop()
        raise RuntimeError(f"Spark standalone cluster: timed out waiting for {what}; logs: {logs}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
