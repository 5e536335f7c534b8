"""``zen serve`` as a user runs it: Ctrl-C in a terminal, bad targets, several workers."""

from __future__ import annotations

import os
import pty
import re
import select
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from conftest import ServedRun
from serve_helpers import ZEN, Server, clean_env

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _read_until(fd: int, pattern: str, timeout: float) -> str:
    """What the terminal shows (colours removed) until ``pattern`` appears, the child exits or time is up."""
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not re.search(pattern, seen):
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen = _ANSI.sub("", seen + chunk.decode(errors="replace"))
    return seen


def test_ctrl_c_in_a_terminal_stops_it_cleanly(cancer_run: ServedRun) -> None:
    pid, fd = pty.fork()  # the child gets the terminal as its controlling one, as in a shell
    if pid == 0:
        os.chdir(cancer_run.root)
        os.execve(ZEN, [ZEN, "serve", cancer_run.run_id, "--port", "0"], clean_env())
    started = _read_until(fd, r"Uvicorn running on http://127\.0\.0\.1:\d+", timeout=120)
    url = re.search(r"http://127\.0\.0\.1:\d+", started.split("Uvicorn running on", 1)[-1])
    assert url is not None, started
    assert httpx.get(f"{url.group(0)}/health").status_code == 200
    os.write(fd, b"\x03")  # Ctrl-C: the terminal sends SIGINT to the foreground process group
    rest = _read_until(fd, r"zen serve: stopped", timeout=60)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    output = started + rest
    assert os.waitstatus_to_exitcode(status) == 0, output
    assert "Traceback" not in output and "Error" not in output, output
    assert "Shutting down" in output and "zen serve: stopped" in output


def _zen(cwd: object, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ZEN, *args], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=120)


def test_what_to_serve_must_be_named_once(cancer_run: ServedRun) -> None:
    neither = _zen(cancer_run.root, "serve")
    assert neither.returncode == 2 and "name what to serve" in neither.stderr
    both = _zen(cancer_run.root, "serve", cancer_run.run_id, "--pipeline", "cancer_sklearn")
    assert both.returncode == 2 and "name what to serve" in both.stderr


def test_an_unknown_run_or_folder_is_one_line_and_exit_2(cancer_run: ServedRun) -> None:
    unknown = _zen(cancer_run.root, "serve", "no-such-run")
    assert unknown.returncode == 2, unknown.stderr
    assert "no-such-run" in unknown.stderr and len(unknown.stderr.strip().splitlines()) == 1, unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_a_taken_port_is_a_clear_error(cancer_run: ServedRun, server: Server) -> None:
    port = server.url.rsplit(":", 1)[1]
    taken = _zen(cancer_run.root, "serve", cancer_run.run_id, "--port", port)
    assert taken.returncode == 2 and f"could not listen on 127.0.0.1:{port}" in taken.stderr, taken.stderr


def test_several_workers_answer(cancer_run: ServedRun) -> None:
    with socket.socket() as probe:  # uvicorn's workers share a socket the parent binds: name a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Server(cancer_run.root, cancer_run.run_id, "--workers", "2", port=port) as running:
        rows = cancer_run.rows(3)
        answers = [httpx.post(f"{running.url}/predict", json={"rows": rows}, timeout=60) for _ in range(4)]
        assert all(answer.status_code == 200 for answer in answers)
        assert all(answer.json() == answers[0].json() for answer in answers)
    assert running.process.returncode == 0, running.output()


def test_pipeline_serves_its_latest_deployed_bundle_and_says_why_not(
    trained: Callable[[str], Any], in_project: Path
) -> None:
    import serving_flows as flows

    from zenml.steps.deployer import LocalDeployer

    deployed = flows.cancer_sklearn(LocalDeployer(target="models/{run_id}"), name="serve_deployed").run()
    with Server(in_project, "--pipeline", "serve_deployed", "--no-access-log") as running:
        metadata = httpx.get(f"{running.url}/metadata").json()
        assert metadata["run_id"] == deployed.id and metadata["pipeline"] == "serve_deployed"
    gated = flows.cancer_sklearn(LocalDeployer(target="models/gated", min_metrics={"accuracy": 1.01}),
                                 name="serve_refused").run()
    refused = _zen(in_project, "serve", "--pipeline", "serve_refused")
    assert refused.returncode == 2, refused.stderr
    assert f"pipeline 'serve_refused' has no deployed model (its latest run {gated.id} was not deployed" in (
        refused.stderr.replace("\n", " "))
    unknown = _zen(in_project, "serve", "--pipeline", "nope")
    assert unknown.returncode == 2 and "pipeline 'nope' has no deployed model;" in unknown.stderr
