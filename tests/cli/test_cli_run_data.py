"""Bad ``--refresh-data`` / ``--data-from`` input: one clear line, exit 2, nothing recorded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cli_helpers import Flow, Result, store_state


def test_data_options_refuse_what_they_cannot_do(flow: Flow, zen: Callable[..., Result], tmp_path: Path) -> None:
    first = zen("run", flow.target("scaled"), "-q")
    assert first.code == 0, first.err
    run_id = first.out.split()[1]
    before = store_state(tmp_path)
    spec = f"pipelines/scaled/{run_id}.yaml"

    cases = {
        ("run", flow.target("scaled"), "--refresh-data"): "--refresh-data replays a stored spec on fresh data",
        ("run", spec, "--refresh-data", "--data-from", run_id): "--refresh-data and --data-from cannot be combined",
        ("run", flow.target("scaled"), "--data-from", "nosuch"): "no run 'nosuch' in the metadata store",
        ("run", flow.target("scaled"), "--data-from", run_id): "this pipeline has no datasource step",
        ("plan", flow.target("scaled"), "--refresh-data"): "--refresh-data applies to a stored spec",
    }
    for argv, message in cases.items():
        result = zen(*argv)
        assert result.code == 2, (argv, result.out, result.err)
        assert len(result.error_lines) == 1 and message in result.error_lines[0], (argv, result.err)
    assert store_state(tmp_path) == before
