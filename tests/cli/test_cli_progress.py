"""``zen run`` progress and feedback: the summary line, progress bars in the live display, and ``--json``."""

from __future__ import annotations

import hashlib
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Flow, Result, write_flow
from rich.console import Console

from zenml.cli import progress as progress_module
from zenml.cli.progress import AboveTable, ProgressDisplay
from zenml.repository import Repository
from zenml.runtime.events import StepOutcome, StepProgress

Zen = Callable[..., Result]

#: Pipelines for these tests: a step reporting progress, one that prints, one retried before failing.
PROGRESS_FLOW = '''\
"""Pipelines with a counting, a chatty and a flaky step."""

from __future__ import annotations

from pathlib import Path

from zenml import StepContext, pipeline, step


@step
def count(context: StepContext, n: int = 5) -> int:
    with context.progress("counting", total=n, unit="items") as progress:
        for _ in range(n):
            progress.advance()
    return n


@step
def chatty(x: int) -> int:
    print("chatty step says hello on stdout")
    return x + 1


@step(retries=2, retry_delay=0.0)
def flaky(x: int) -> int:
    if Path("broken").exists():
        raise ValueError("flaky gave up")
    return x


@pipeline
def counting() -> None:
    chatty(x=count())


@pipeline
def retried() -> None:
    flaky(x=count())
'''


@pytest.fixture
def progress_flow(repo: Repository, tmp_path: Path) -> Flow:
    return write_flow(tmp_path, PROGRESS_FLOW, prefix="progress")


def _document(result: Result) -> dict[str, Any]:
    """stdout parsed as exactly one JSON document (``json.loads`` refuses anything around it)."""
    document = json.loads(result.out)
    assert isinstance(document, dict)
    return document


def _steps(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in document["steps"]}


# -- the summary line ------------------------------------------------------------------------------------


def test_final_line_counts_steps_and_shows_cache_hits(zen: Zen, flow: Flow) -> None:
    first = zen("run", flow.target("scaled"))
    assert first.code == 0, first.err
    assert first.out.splitlines()[-1].endswith(": 2 steps (2 completed)")
    again = zen("run", flow.target("scaled"))
    assert "  load: cached" in again.out and "  scale: cached" in again.out
    assert again.out.splitlines()[-1].endswith(": 2 steps (2 cached)")


def test_a_failed_run_prints_its_summary_before_the_error(zen: Zen, flow: Flow) -> None:
    Path("broken").touch()
    result = zen("run", flow.target("failing"), "--quiet")
    assert result.code == 1
    assert result.out.splitlines()[-1].endswith(": 3 steps (1 completed, 1 failed, 1 skipped)")
    assert " failed in " in result.out
    assert result.error_lines[0] == "Error: step 'boom' failed: ValueError: kaboom: the data is bad"


# -- --json ----------------------------------------------------------------------------------------------


def test_json_of_a_completed_run(zen: Zen, flow: Flow, repo: Repository) -> None:
    result = zen("run", flow.target("scaled"), "--json")
    assert result.code == 0, result.err
    document = _document(result)
    run = repo.runs(limit=1)[0]
    assert document["format_version"] == 1
    assert (document["run_id"], document["pipeline"], document["status"]) == (run.id, "scaled", "completed")
    spec = Path(document["spec"]["path"])
    assert spec.is_absolute() and spec.is_file()
    assert document["spec"]["sha256"] == hashlib.sha256(spec.read_bytes()).hexdigest() == run.record.spec_sha256
    assert document["duration"] == round(run.record.duration, 3)
    assert [step["name"] for step in document["steps"]] == ["load", "scale"]
    for step in document["steps"]:
        assert step["status"] == "completed"
        assert step["attempts"] == 1
        assert step["cached_from"] is None and step["error"] is None
        assert 0 <= step["duration"] <= document["duration"] + 0.001  # within the run (both rounded to ms)
    assert document["counts"] == {"completed": 2}
    assert document["metrics"] == {"scale": {"factor": 2.0}}
    assert document["error"] is None


def test_json_of_a_cached_rerun_names_where_the_outputs_came_from(zen: Zen, flow: Flow) -> None:
    first = _document(zen("run", flow.target("scaled"), "--json"))
    result = zen("run", flow.target("scaled"), "--json")
    assert result.code == 0, result.err
    document = _document(result)
    assert document["run_id"] != first["run_id"]
    assert document["status"] == "completed"
    assert {name: (step["status"], step["cached_from"]) for name, step in _steps(document).items()} == {
        "load": ("cached", first["run_id"]),
        "scale": ("cached", first["run_id"]),
    }
    assert document["counts"] == {"cached": 2}
    assert document["metrics"] == {"scale": {"factor": 2.0}}  # a cache hit keeps the producer's metrics


def test_json_of_a_failed_run_is_valid_and_exits_one(zen: Zen, flow: Flow, repo: Repository) -> None:
    Path("broken").touch()
    result = zen("run", flow.target("failing"), "--json")
    assert result.code == 1
    document = _document(result)
    assert document["run_id"] == repo.runs(pipeline="failing")[0].id
    assert document["status"] == "failed"
    assert document["error"] == {"step": "boom", "type": "ValueError", "message": "kaboom: the data is bad"}
    steps = _steps(document)
    assert steps["load"]["status"] == "completed"
    assert steps["boom"]["status"] == "failed"
    assert steps["boom"]["error"] == {"type": "ValueError", "message": "kaboom: the data is bad"}
    assert steps["scale"] == {
        "name": "scale", "status": "skipped", "duration": 0.0, "attempts": 0, "cached_from": None, "error": None
    }  # fmt: skip
    assert result.error_lines[0] == "Error: step 'boom' failed: ValueError: kaboom: the data is bad"


def test_json_counts_the_attempts_of_a_retried_step(zen: Zen, progress_flow: Flow) -> None:
    Path("broken").touch()
    result = zen("run", progress_flow.target("retried"), "--json")
    assert result.code == 1
    steps = _steps(_document(result))
    assert (steps["flaky"]["status"], steps["flaky"]["attempts"]) == ("failed", 3)  # retries=2
    assert steps["count"]["attempts"] == 1


def test_json_of_bad_input_is_valid_and_exits_two(zen: Zen, flow: Flow) -> None:
    result = zen("run", flow.target("scaled"), "--param", "scale.factr=2", "--json")
    assert result.code == 2
    document = _document(result)
    assert document["run_id"] is None and document["status"] == "error"
    assert document["error"]["type"] == "ConfigError"
    assert "factr" in document["error"]["message"]
    assert len(result.error_lines) == 1
    assert not Path("pipelines").exists()


def test_json_keeps_stdout_for_the_document_when_a_step_prints(zen: Zen, progress_flow: Flow) -> None:
    result = zen("run", progress_flow.target("counting"), "--json")
    assert result.code == 0, result.err
    assert _document(result)["status"] == "completed"
    assert "chatty step says hello on stdout" in result.err


def test_quiet_and_json_together_print_the_document(zen: Zen, flow: Flow) -> None:
    result = zen("run", flow.target("scaled"), "-q", "--json")
    assert result.code == 0, result.err
    assert _document(result)["status"] == "completed"
    bad = zen("run", flow.target("scaled"), "--param", "scale.factr=2", "--quiet", "--json")
    assert bad.code == 2
    assert _document(bad)["error"]["type"] == "ConfigError" and len(bad.error_lines) == 1


@pytest.mark.parametrize(
    ("args", "kind"),
    [(["run", "--json"], "MissingParameter"), (["run", "x.py:p", "--json", "--bogus"], "NoSuchOption")],
)
def test_json_usage_errors_still_print_a_document(zen: Zen, flow: Flow, args: list[str], kind: str) -> None:
    result = zen(*args)
    assert result.code == 2
    document = _document(result)
    assert (document["run_id"], document["status"], document["error"]["type"]) == (None, "error", kind)
    assert not Path("pipelines").exists()


# -- progress bars in the live display ---------------------------------------------------------------------


def _terminal() -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=120, color_system=None, record=True)


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch) -> Console:
    """``zen run``'s display as on a terminal, drawing into a recording console."""
    terminal = _terminal()
    monkeypatch.setattr(progress_module, "is_interactive", lambda: True)
    monkeypatch.setattr(progress_module, "console", terminal)
    return terminal


def test_display_renders_a_bar_for_a_step_with_a_total(live: Console) -> None:
    display = ProgressDisplay(["trainer", "evaluator"])
    display.step_started("trainer")
    display.step_progress(StepProgress("trainer", "training", 3, 10, "epochs"))
    terminal = _terminal()
    terminal.print(display.render())
    text = terminal.export_text()
    trainer_row = next(line for line in text.splitlines() if line.startswith("trainer"))
    assert "running" in trainer_row and "3/10 epochs" in trainer_row
    assert "━" in trainer_row  # the bar: 30 % drawn
    evaluator_row = next(line for line in text.splitlines() if line.startswith("evaluator"))
    assert "pending" in evaluator_row and "━" not in evaluator_row


def test_display_counts_when_the_total_is_unknown(live: Console) -> None:
    display = ProgressDisplay(["datasource"])
    display.step_started("datasource")
    display.step_progress(StepProgress("datasource", "reading", 131_072, None, "rows"))
    terminal = _terminal()
    terminal.print(display.render())
    assert "131,072 rows" in terminal.export_text()
    display.step_finished(StepOutcome("datasource", "completed", 1.5))
    terminal.print(display.render())
    finished = terminal.export_text().splitlines()
    assert any("completed" in line and "131,072 rows" in line for line in finished)


def test_plain_output_ignores_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "is_interactive", lambda: False)
    display = ProgressDisplay(["trainer"])
    display.step_progress(StepProgress("trainer", "training", 3, 10, "epochs"))
    assert display.progress == {}


def test_zen_run_on_a_terminal_shows_a_steps_progress_bar(zen: Zen, progress_flow: Flow, live: Console) -> None:
    result = zen("run", progress_flow.target("counting"))
    assert result.code == 0, result.err
    drawn = live.export_text()  # the live table's last frame, drawn when the run ended
    count_rows = [line for line in drawn.splitlines() if line.startswith("count ")]
    assert count_rows and "5/5 items" in count_rows[-1] and "━" in count_rows[-1]
    assert "cached" not in drawn
    again = zen("run", progress_flow.target("counting"))
    assert again.code == 0, again.err
    assert any(line.startswith("count ") and "cached" in line for line in live.export_text().splitlines())


# -- what steps print while the live display is up ---------------------------------------------------------


def test_a_progress_line_rewritten_after_carriage_returns_is_printed_once_it_ends(live: Console) -> None:
    stream = AboveTable(io.StringIO())
    for batch in range(1, 4):
        stream.write(f"\r{batch}/3 [{'=' * batch}>]")
        stream.flush()  # Rich's own stand-in printed every flushed fragment as a line of its own
    assert stream.current() == "3/3 [===>]"
    assert live.export_text() == ""
    stream.write(" - loss: 0.25\nEpoch 2/2\n1/3 [=>]")
    assert live.export_text() == "3/3 [===>] - loss: 0.25\nEpoch 2/2\n"
    assert stream.current() == "1/3 [=>]"
    stream.write("\r")
    assert stream.current() == "1/3 [=>]"  # a terminal still shows it until something overwrites it
    stream.write("2/3 [==>]")
    assert stream.current() == "2/3 [==>]"
    stream.finish()
    assert live.export_text().endswith("2/3 [==>]\n") and stream.current() == ""


def test_the_display_shows_the_line_being_printed_under_the_table(live: Console) -> None:
    stdout = sys.stdout
    with ProgressDisplay(["trainer"]) as display:
        # the table (and its refresh thread) starts with the first step, not while the run is compiled
        assert sys.stdout is stdout
        display.step_started("trainer")
        assert sys.stdout is not stdout and getattr(sys.stdout, "rich_proxied_file", None) is stdout
        print("\r7/10 [======>...]", end="", flush=True)
        terminal = _terminal()
        terminal.print(display.render())
        assert terminal.export_text().splitlines()[-1] == "7/10 [======>...]"
    assert sys.stdout is stdout
    assert "7/10 [======>...]" in live.export_text()  # printed above the final table as the display stopped
