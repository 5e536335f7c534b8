"""Run and step statuses live once, in ``zenml.utils.status``: no other module spells one as a string."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import zenml
from zenml.utils.status import (
    ENDED_STEP,
    ERRORED_STEP,
    FAILED_STEP,
    FINISHED_RUN,
    SUCCEEDED_STEP,
    UNFINISHED_STEP,
    RunStatus,
    StepStatus,
)

PACKAGE = Path(zenml.__file__).parent
HOME = "utils/status.py"
#: the words a status is spelled with; grows with the enums
STATUSES = frozenset(RunStatus) | frozenset(StepStatus)

#: where one of those words is not a run's or a step's status, or may not name the enum
NOT_A_STATUS: dict[str, frozenset[str]] = {
    # below zenml.utils in the layers: StepError's ``status`` default and its verb mirror StepStatus
    "exceptions.py": frozenset({StepStatus.FAILED, StepStatus.TIMED_OUT}),
    # the deployer step's metric and the ``zen models`` JSON key: whether a model was deployed
    "steps/deployer.py": frozenset({RunStatus.DEPLOYED}),
    "cli/models.py": frozenset({RunStatus.DEPLOYED}),
    # the ``deployments.deployed`` column: whether a bundle was deployed
    "metadata/tables.py": frozenset({RunStatus.DEPLOYED}),
    "metadata/store.py": frozenset({RunStatus.DEPLOYED}),
    "metadata/statements.py": frozenset({RunStatus.DEPLOYED}),
}
#: folders whose strings are not checked
SKIPPED_FOLDERS = (
    "metadata/migrations/",  # migrations are history: they keep the words they were written with
)


def _status_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in STATUSES
    ]


def test_no_status_literal_outside_its_home() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative == HOME or relative.startswith(SKIPPED_FOLDERS):
            continue
        allowed = NOT_A_STATUS.get(relative, frozenset())
        found += [
            f"zenml/{relative}:{line}: {value!r}" for line, value in _status_literals(path) if value not in allowed
        ]
    assert not found, "use RunStatus/StepStatus from zenml.utils.status instead of:\n" + "\n".join(found)


def test_the_guard_sees_a_literal(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text('"""A docstring that says completed."""\nif status == "completed":\n    pass\n')
    assert _status_literals(module) == [(2, "completed")]


def test_statuses_read_and_print_as_the_stored_words() -> None:
    assert RunStatus.COMPLETED == "completed" and f"{StepStatus.TIMED_OUT}" == "timed_out"
    assert json.dumps({StepStatus.CACHED: RunStatus.CRASHED}) == '{"cached": "crashed"}'
    assert "running" in UNFINISHED_STEP and "skipped" not in FAILED_STEP


def test_groupings() -> None:
    assert FINISHED_RUN == {"completed", "failed", "crashed"}
    assert SUCCEEDED_STEP == {"completed", "cached"}
    assert ERRORED_STEP == {"failed", "timed_out"} < FAILED_STEP
    assert ENDED_STEP == SUCCEEDED_STEP | ERRORED_STEP
    assert not UNFINISHED_STEP & ENDED_STEP
