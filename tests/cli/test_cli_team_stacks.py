"""Stacks and read commands as a team uses them, through the installed ``zen`` script.

``${VAR}`` in store URLs and options, ``--stack`` on every read command, ``zen stack register``
checks, redaction in ``zen stack describe``, ``zen runs resume`` keeping ``--no-cache``, the
``runs list`` / ``artifacts list`` options, and a lost ``metadata.db``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from cli_helpers import FLOW_SOURCE, Result

ZEN = str(Path(sys.executable).parent / "zen")
Zen = Callable[..., Result]


def zen(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the console script as a shell would, with extra environment variables."""
    return subprocess.run(
        [ZEN, *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "TERM": "dumb", "COLUMNS": "250", **(env or {})},
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def refused(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Assert exit 2 and one error line holding every needle; return that line."""
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0], result.stderr
    return errors[0]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with the CLI test pipelines as ``flow.py``, made a repository by ``zen init``."""
    (tmp_path / "flow.py").write_text(FLOW_SOURCE)
    ok(zen("init", cwd=tmp_path))
    return tmp_path


def _config(root: Path) -> dict[str, dict[str, dict[str, object]]]:
    data: dict[str, dict[str, dict[str, object]]] = yaml.safe_load((root / ".zen" / "config.yaml").read_text())
    return data


def _run_id(result: subprocess.CompletedProcess[str]) -> str:
    """The run id of ``zen run``'s final line (``Run ID completed in …``)."""
    line = next(line for line in result.stdout.splitlines() if line.startswith("Run "))
    return line.split()[1]


def _register(root: Path, name: str, **fields: object) -> None:
    """Register a stack with store options (which ``zen stack register`` has no flag for) by the Python API."""
    from zenml.repository import Repository

    Repository(root).register_stack(name, **fields)


def _step_statuses(root: Path, run_id: str, stack: str | None = None) -> dict[str, str]:
    from zenml.repository import Repository, close_stores

    try:
        return {name: step.status for name, step in Repository(root, stack=stack).run(run_id).steps.items()}
    finally:
        close_stores()


# -- ${VAR} in stack store URLs and options ------------------------------------------------------


def test_a_variable_in_the_metadata_url_is_filled_at_use_time_and_never_written_back(project: Path) -> None:
    placeholder = "sqlite:///${ENVTEST_DB}.db"
    ok(zen("stack", "register", "team", "--metadata-store", placeholder, cwd=project))  # the variable is not set yet
    message = refused(zen("runs", "list", "--stack", "team", cwd=project), "ENVTEST_DB", "stack 'team'")
    assert "not set" in message
    refused(zen("run", "flow.py:scaled", "--stack", "team", cwd=project), "ENVTEST_DB")
    assert not list(project.glob("$*")), "a file named after the placeholder was created"

    ran = ok(zen("run", "flow.py:scaled", "--stack", "team", cwd=project, env={"ENVTEST_DB": "team-metadata"}))
    assert (project / "team-metadata.db").is_file()
    listed = ok(zen("runs", "list", "--stack", "team", cwd=project, env={"ENVTEST_DB": "team-metadata"}))
    assert _run_id(ran) in listed.stdout
    assert _config(project)["stacks"]["team"]["metadata_store"] == placeholder  # never written back expanded
    assert not list(project.glob("$*"))
    spec = next((project / "pipelines" / "scaled").glob("*.yaml")).read_text()
    assert "team-metadata" not in spec and "${ENVTEST_DB}" in spec  # the run spec records the placeholder


@pytest.mark.services
@pytest.mark.parametrize("engine", ["postgres", "mysql"])
def test_a_variable_in_a_server_url_is_filled_at_use_time(
    project: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    url: str = request.getfixturevalue(f"{engine}_url")
    base, database = url.rsplit("/", 1)
    placeholder = f"{base}/${{ZT_DATABASE}}"
    ok(zen("stack", "register", "server", "--metadata-store", placeholder, "--set", cwd=project))
    refused(zen("runs", "list", cwd=project), "ZT_DATABASE", "stack 'server'")
    env = {"ZT_DATABASE": database}
    run_id = _run_id(ok(zen("run", "flow.py:scaled", cwd=project, env=env)))
    assert run_id in ok(zen("runs", "list", cwd=project, env=env)).stdout
    assert _config(project)["stacks"]["server"]["metadata_store"] == placeholder
    # the read commands' queries on this engine: a cached run's artifacts, the metrics logged
    cached = _run_id(ok(zen("run", "flow.py:scaled", cwd=project, env=env)))
    listed = ok(zen("artifacts", "list", "--run", cached, cwd=project, env=env)).stdout
    assert listed.count(f"run {run_id}") == 2
    refused(zen("runs", "list", "--sort", "nosuch", "-p", "scaled", cwd=project, env=env), "metrics logged: factor")


def test_a_variable_in_artifact_store_options_is_filled_at_use_time(project: Path, s3_endpoint: str) -> None:
    import s3fs

    credentials = {"AWS_ACCESS_KEY_ID": "testing-key", "AWS_SECRET_ACCESS_KEY": "testing-secret"}
    env = {**credentials, "AWS_DEFAULT_REGION": "us-east-1", "ZT_S3_ENDPOINT": s3_endpoint}
    bucket = f"zen-vars-{uuid.uuid4().hex[:12]}"
    s3fs.S3FileSystem(key=credentials["AWS_ACCESS_KEY_ID"], secret=credentials["AWS_SECRET_ACCESS_KEY"],
                      client_kwargs={"endpoint_url": s3_endpoint}).mkdir(bucket)  # fmt: skip
    options = {"client_kwargs": {"endpoint_url": "${ZT_S3_ENDPOINT}"}}
    _register(project, "s3", artifact_store=f"s3://{bucket}/zen", artifact_store_options=options)
    without = {key: value for key, value in env.items() if key != "ZT_S3_ENDPOINT"}
    refused(zen("run", "flow.py:scaled", "--stack", "s3", cwd=project, env=without), "ZT_S3_ENDPOINT", "stack 's3'")
    run_id = _run_id(ok(zen("run", "flow.py:scaled", "--stack", "s3", cwd=project, env=env)))
    listed = ok(zen("artifacts", "list", "--run", run_id, "--stack", "s3", cwd=project, env=env))
    assert "scale.output" in listed.stdout
    stored = s3fs.S3FileSystem(key="testing-key", secret="testing-secret", client_kwargs={"endpoint_url": s3_endpoint})
    assert stored.find(f"{bucket}/zen/{run_id}")  # the artifacts went to the endpoint the variable named
    assert _config(project)["stacks"]["s3"]["artifact_store_options"] == options


# -- --stack on every read command ---------------------------------------------------------------

READ_COMMANDS = [
    ["runs", "list"], ["runs", "show"], ["runs", "logs"], ["runs", "compare"], ["runs", "report"],
    ["runs", "resume"], ["pipelines", "list"], ["artifacts", "list"], ["artifacts", "show"], ["doctor"],
    ["graph"], ["plan"], ["run"],
]  # fmt: skip


@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_every_read_command_takes_stack(zen_in_process: Zen, command: list[str]) -> None:
    helped = zen_in_process(*command, "--help")
    assert helped.code == 0
    assert "--stack" in helped.out


@pytest.fixture
def zen_in_process(zen: Zen) -> Zen:
    """The CLI tests' in-process ``zen`` (help texts need no new interpreter each)."""
    return zen


@pytest.mark.slow  # about 20 zen processes
def test_read_commands_read_the_stack_they_are_given(project: Path) -> None:
    ok(zen("stack", "register", "team", "--metadata-store", "sqlite:///team/metadata.db",
           "--artifact-store", "team/artifacts", cwd=project))  # fmt: skip
    first = _run_id(ok(zen("run", "flow.py:scaled", "--stack", "team", cwd=project)))
    second = _run_id(ok(zen("run", "flow.py:scaled", "--stack", "team", "--param", "scale.factor=3", cwd=project)))
    assert first not in ok(zen("runs", "list", cwd=project)).stdout  # the active stack has no runs
    assert first in ok(zen("runs", "list", "--stack", "team", cwd=project)).stdout
    assert "scale" in ok(zen("runs", "show", first, "--stack", "team", cwd=project)).stdout
    refused(zen("runs", "show", first, cwd=project), first[:8])
    ok(zen("runs", "logs", first, "--stack", "team", cwd=project))
    compared = ok(zen("runs", "compare", first, second, "--stack", "team", cwd=project))
    assert "factor" in compared.stdout
    assert "scaled" in ok(zen("pipelines", "list", "--stack", "team", cwd=project)).stdout
    artifacts = ok(zen("artifacts", "list", "--stack", "team", cwd=project)).stdout
    assert first in artifacts
    artifact_id = next(line.split()[0] for line in artifacts.splitlines() if first in line)
    assert "Artifact" in ok(zen("artifacts", "show", artifact_id, "--stack", "team", cwd=project)).stdout
    doctor = ok(zen("doctor", "--stack", "team", "--json", cwd=project))
    assert json.loads(doctor.stdout)["runs_checked"] == 2
    assert json.loads(ok(zen("doctor", "--json", cwd=project)).stdout)["runs_checked"] == 0
    planned = ok(zen("plan", "flow.py:scaled", "--stack", "team", cwd=project)).stdout
    assert "0 of 2 steps would run" in planned  # the team stack's cache
    assert "2 of 2 steps would run" in ok(zen("plan", "flow.py:scaled", cwd=project)).stdout
    spec = f"pipelines/scaled/{first}.yaml"
    assert '"load" -> "scale"' in ok(zen("graph", spec, "--format", "dot", "--stack", "team", cwd=project)).stdout
    ok(zen("datasources", "list", "--stack", "team", cwd=project))
    readers = (["runs", "list"], ["artifacts", "list"], ["datasources", "list"], ["doctor"], ["graph", spec])
    for command in (*readers, ["plan", "flow.py:scaled"]):
        refused(zen(*command, "--stack", "nosuch", cwd=project), "no stack named 'nosuch'", "team")


def test_graph_checks_a_stored_spec_against_the_stack_that_recorded_it(project: Path) -> None:
    run_id = _run_id(ok(zen("run", "flow.py:scaled", cwd=project)))
    spec = project / "pipelines" / "scaled" / f"{run_id}.yaml"
    spec.chmod(0o644)
    spec.write_text(spec.read_text().replace("factor: 2.0", "factor: 5.0"))
    refused(zen("graph", str(spec), cwd=project), "was changed after run")


# -- zen stack register checks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--backend-opt", "training.nosuch=1"], ["stack 'team'", "'nosuch'", "parameters: device"]),
        (["--orchestrator", "parallel", "--backend-opt", "orchestrator.worker=2"], ["'worker'", "workers"]),
        (["--metadata-store", "not a url"], ["stack 'team'", "'not a url'", "needs a scheme"]),
        (["--metadata-store", "nosuchdb://host/db"], ["'nosuchdb'", "postgresql://"]),
        (["--metadata-store", "postgresql://host:port/db"], ["is malformed"]),
        (["--artifact-store", "nosuch://bucket/zen"], ["'nosuch://'", "fsspec"]),
    ],
)
def test_register_refuses_bad_options_and_urls(project: Path, args: list[str], needles: list[str]) -> None:
    before = (project / ".zen" / "config.yaml").read_text()
    refused(zen("stack", "register", "team", *args, cwd=project), *needles)
    assert (project / ".zen" / "config.yaml").read_text() == before


def test_register_accepts_placeholders_and_backends_not_installed_here(project: Path) -> None:
    ok(zen("stack", "register", "team", "--metadata-store", "postgresql://zen:${ZT_PASSWORD}@db.example.com/zen",
           "--artifact-store", "s3://${ZT_BUCKET}/zen", "--orchestrator", "dask",
           "--backend-opt", "orchestrator.n_workers=4", cwd=project))  # fmt: skip
    stack = _config(project)["stacks"]["team"]
    assert stack["metadata_store"] == "postgresql://zen:${ZT_PASSWORD}@db.example.com/zen"
    assert stack["orchestrator_options"] == {"n_workers": 4}


# -- zen stack describe --------------------------------------------------------------------------


def test_describe_redacts_passwords_at_any_depth_of_store_options(project: Path) -> None:
    secrets = ["dbpassw0rd", "minio-s3cret", "pr0xy-pass", "t0ken-value", "query-s3cret"]
    options = {
        "client_kwargs": {
            "endpoint_url": "https://admin:minio-s3cret@minio.example.com:9000",
            "config_kwargs": {"proxies": {"https": "http://proxyuser:pr0xy-pass@proxy.example.com:3128"}},
        },
        "mirrors": [{"url": "https://mirror.example.com/zen?token=query-s3cret"}, {"session_token": "t0ken-value"}],
        "anon": False,
    }
    _register(
        project,
        "team",
        metadata_store="postgresql://zen:dbpassw0rd@db.example.com/zen",
        artifact_store="s3://bucket/zen",
        artifact_store_options=options,
    )
    described = ok(zen("stack", "describe", "team", cwd=project))
    for secret in secrets:
        assert secret not in described.stdout + described.stderr
    data = json.loads(described.stdout)
    client = data["artifact_store_options"]["client_kwargs"]
    assert client["endpoint_url"] == "https://admin:***@minio.example.com:9000"
    assert client["config_kwargs"]["proxies"]["https"] == "http://proxyuser:***@proxy.example.com:3128"
    assert data["artifact_store_options"]["mirrors"] == [
        {"url": "https://mirror.example.com/zen?token=***"},
        {"session_token": "***"},
    ]
    assert data["artifact_store_options"]["anon"] is False
    assert data["metadata_store"] == "postgresql://zen:***@db.example.com/zen"
    listed = ok(zen("stack", "list", cwd=project))
    assert not [secret for secret in secrets if secret in listed.stdout]


# -- zen runs resume keeps the run's --no-cache --------------------------------------------------


def test_resume_keeps_the_runs_no_cache_choice(project: Path) -> None:
    # on a stack that is not the active one: resume reads and finishes the run where --stack says
    team = ("--stack", "team")
    ok(zen("stack", "register", "team", "--metadata-store", "sqlite:///team.db", "--artifact-store", "a", cwd=project))
    (project / "broken").touch()
    with_cache = zen("run", "flow.py:failing", *team, cwd=project)
    without_cache = zen("run", "flow.py:failing", "--no-cache", *team, cwd=project)
    assert with_cache.returncode == without_cache.returncode == 1
    (project / "broken").unlink()
    ok(zen("run", "flow.py:failing", *team, cwd=project))  # boom's and scale's results are now in the cache
    refused(zen("runs", "resume", _run_id(without_cache), cwd=project), "no run")  # not in the active stack
    ok(zen("runs", "resume", _run_id(without_cache), *team, cwd=project))
    ran = {"load": "completed", "boom": "completed", "scale": "completed"}
    assert _step_statuses(project, _run_id(without_cache), "team") == ran  # nothing served from the cache
    ok(zen("runs", "resume", _run_id(with_cache), *team, cwd=project))
    cached = {"load": "completed", "boom": "cached", "scale": "cached"}
    assert _step_statuses(project, _run_id(with_cache), "team") == cached
    spec = (project / "pipelines" / "failing" / f"{_run_id(without_cache)}.yaml").read_text()
    assert "\nenable_cache: false\n" in spec  # the run's choice is part of its record


# -- zen runs list / zen artifacts list ----------------------------------------------------------


def test_runs_list_refuses_an_unlogged_sort_metric_and_a_limit_below_one(project: Path) -> None:
    refused(zen("runs", "list", "--sort", "accuracy", cwd=project), "no run logged a metric named 'accuracy'")
    ok(zen("run", "flow.py:scaled", cwd=project))
    refused(zen("runs", "list", "--sort", "nosuch", cwd=project), "--sort 'nosuch'", "metrics logged: factor")
    refused(zen("runs", "list", "--sort", "factor", "-p", "greeting", cwd=project), "of pipeline 'greeting'")
    assert "scaled" in ok(zen("runs", "list", "--sort", "factor", cwd=project)).stdout
    for limit in ("0", "-5"):
        refused(zen("runs", "list", "-n", limit, cwd=project), "--limit")
        refused(zen("artifacts", "list", "-n", limit, cwd=project), "--limit")


def test_artifacts_of_a_fully_cached_run_say_which_run_produced_them(project: Path) -> None:
    first = _run_id(ok(zen("run", "flow.py:scaled", cwd=project)))
    cached = _run_id(ok(zen("run", "flow.py:scaled", cwd=project)))
    assert _step_statuses(project, cached) == {"load": "cached", "scale": "cached"}
    listed = ok(zen("artifacts", "list", "--run", cached, cwd=project)).stdout
    rows = [line for line in listed.splitlines() if "│" in line and ".output" in line]  # not the header (┃)
    assert len(rows) == 2
    assert all(f"run {first}" in row and "cached" in row for row in rows)
    assert "load.output" in rows[0] and "(load)" in rows[0]
    assert "scale.output" in rows[1] and "(scale)" in rows[1]
    own = ok(zen("artifacts", "list", "--run", first, cwd=project)).stdout
    assert own.count("this run") == 2


# -- a lost metadata.db ------------------------------------------------------------------------------


def test_a_missing_metadata_db_next_to_artifacts_is_not_recreated_empty(project: Path) -> None:
    run_id = _run_id(ok(zen("run", "flow.py:scaled", cwd=project)))
    database = project / ".zen" / "metadata.db"
    for file in database.parent.glob("metadata.db*"):
        file.unlink()
    for command in (["runs", "list"], ["run", "flow.py:scaled"], ["artifacts", "list"], ["init"]):
        refused(zen(*command, cwd=project), "metadata.db is missing", run_id, "zen doctor")
        assert not database.exists()
    doctor = zen("doctor", cwd=project)
    assert doctor.returncode == 1
    assert "missing_metadata_store" in doctor.stdout and "restore the file from a backup" in doctor.stdout
    assert "zen doctor --fix" in doctor.stdout
    assert not database.exists()
    fixed = ok(zen("doctor", "--fix", "--min-age", "0", "--json", cwd=project))
    findings = json.loads(fixed.stdout)["findings"]
    assert findings[0]["kind"] == "missing_metadata_store" and findings[0]["resolved"]
    assert database.is_file()
    assert (project / ".zen" / "artifacts" / run_id).is_dir()  # the artifacts are kept
    assert "No runs recorded yet" in ok(zen("runs", "list", cwd=project)).stdout


def test_a_missing_metadata_db_with_an_empty_artifact_store_is_created(project: Path) -> None:
    for file in (project / ".zen").glob("metadata.db*"):
        file.unlink()
    assert "No runs recorded yet" in ok(zen("runs", "list", cwd=project)).stdout
    assert (project / ".zen" / "metadata.db").is_file()
