"""Helpers of the serving tests: the breast-cancer CSV, and a real ``zen serve`` process on a free port."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

ZEN = str(Path(sys.executable).parent / "zen")
_LISTENING = re.compile(r"Uvicorn running on (http://\S+:\d+)")


def breast_cancer_csv(path: Path) -> Path:
    """scikit-learn's bundled breast-cancer data as CSV: 30 numeric features and the 0/1 ``malignant`` label."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "malignant"})
    frame["malignant"] = 1 - frame["malignant"]  # scikit-learn codes benign as 1
    frame.columns = [column.replace(" ", "_") for column in frame.columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def clean_env() -> dict[str, str]:
    """This environment without the user's ``ZEN_*`` settings (the tests' own ``ZEN_TEST_*`` stay)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ZEN_") or k.startswith("ZEN_TEST_")}


class Server:
    """``zen serve ARGS --port 0`` in ``cwd``; ``url`` once uvicorn listens; ``stop()`` sends Ctrl-C's SIGINT."""

    def __init__(self, cwd: Path, *args: str, port: int = 0) -> None:
        self.command = [ZEN, "serve", *args, "--host", "127.0.0.1", "--port", str(port)]
        self.process = subprocess.Popen(
            self.command, cwd=cwd, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self._seen: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = self._wait_listening(timeout=120)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            self._seen.put(line)

    def _wait_listening(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._seen.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None and self._seen.empty():
                    self.stop()
                    raise AssertionError(f"zen serve exited {self.process.returncode}:\n{self.output()}")
                continue
            found = _LISTENING.search(line)
            if found:
                return self._wait_healthy(found.group(1), deadline)
        self.stop()
        raise AssertionError(f"zen serve did not start listening in {timeout} s:\n{self.output()}")

    def _wait_healthy(self, url: str, deadline: float) -> str:
        # with --workers N the parent binds and reports the port before its workers have loaded the model
        import httpx

        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    return url
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"zen serve did not answer /health:\n{self.output()}")

    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> int:
        """Stop the server as Ctrl-C does; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=10)  # it has read everything the process wrote
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode

    def __enter__(self) -> Server:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
