"""The SQLite SQL of the metadata store's named statements: what ``sqlite3`` runs by default.

Generated from the Core statements in ``zenml/metadata/statements.py`` (SQLAlchemy's SQLite
compiler, named parameters) by ``python -m zenml.metadata.codegen``; do not edit (a test fails when
the two disagree). Each entry: the SQL, the values the statement binds itself, and the indexes of
its ``Boolean`` result columns.
"""

# ruff: noqa: E501 -- the SQL as SQLAlchemy renders it, one literal per line of it

from __future__ import annotations

from zenml.metadata.execution import SQLiteStatement
from zenml.utils.status import RunStatus, StepStatus

# fmt: off
STATEMENTS: dict[str, SQLiteStatement] = {
    "pipeline.id": SQLiteStatement(
        (
            "SELECT pipelines.id \n"
            "FROM pipelines \n"
            "WHERE pipelines.name = :name"
        ),
        {},
        (),
    ),
    "pipeline.insert": SQLiteStatement(
        (
            "INSERT INTO pipelines (name, created_at) VALUES (:name, :created_at)"
        ),
        {},
        (),
    ),
    "run.insert": SQLiteStatement(
        (
            "INSERT INTO runs (id, pipeline_id, status, spec_path, spec_sha256, orchestrator, created_at, started_at, git_commit, git_dirty, git_diff_sha256, host, pid, heartbeat_at, boot_id, pid_namespace) VALUES (:id, :pipeline_id, :status, :spec_path, :spec_sha256, :orchestrator, :created_at, :started_at, :git_commit, :git_dirty, :git_diff_sha256, :host, :pid, :heartbeat_at, :boot_id, :pid_namespace)"
        ),
        {},
        (),
    ),
    "run.status": SQLiteStatement(
        (
            "UPDATE runs SET status=:status, ended_at=:ended_at, error_step=:error_step, error_type=:error_type, error_message=:error_message WHERE runs.id = :run_id"
        ),
        {},
        (),
    ),
    "run.status+owner": SQLiteStatement(
        (
            "UPDATE runs SET status=:status, ended_at=:ended_at, error_step=:error_step, error_type=:error_type, error_message=:error_message, host=:host, pid=:pid, heartbeat_at=:heartbeat_at, boot_id=:boot_id, pid_namespace=:pid_namespace WHERE runs.id = :run_id"
        ),
        {},
        (),
    ),
    "run.heartbeat": SQLiteStatement(
        (
            "UPDATE runs SET heartbeat_at=:heartbeat_at WHERE runs.id = :run_id"
        ),
        {},
        (),
    ),
    "run.crash": SQLiteStatement(
        (
            "UPDATE runs SET status=:status, ended_at=:ended_at, error_type=:error_type, error_message=:error_message WHERE runs.id = :run_id AND runs.status = :status_1 AND runs.pid IS :judged_pid AND runs.heartbeat_at IS :judged_heartbeat_at"
        ),
        {"status_1": RunStatus.RUNNING},
        (),
    ),
    "run.crash_steps": SQLiteStatement(
        (
            "UPDATE step_runs SET status=:status, ended_at=:ended_at, error_type=:error_type, error_message=:error_message WHERE step_runs.run_id = :of_run AND step_runs.status IN (:status_1_1, :status_1_2)"
        ),
        {"status_1_1": StepStatus.RUNNING, "status_1_2": StepStatus.PENDING},
        (),
    ),
    "run.by_id": SQLiteStatement(
        (
            "SELECT runs.id, pipelines.name, runs.status, runs.spec_path, runs.spec_sha256, runs.orchestrator, runs.created_at, runs.started_at, runs.ended_at, runs.git_commit, runs.git_dirty, runs.git_diff_sha256, runs.error_step, runs.error_type, runs.error_message, runs.host, runs.pid, runs.heartbeat_at, runs.boot_id, runs.pid_namespace \n"
            "FROM runs JOIN pipelines ON runs.pipeline_id = pipelines.id \n"
            "WHERE runs.id = :run_id"
        ),
        {},
        (10,),
    ),
    "run.by_prefix": SQLiteStatement(
        (
            "SELECT runs.id, pipelines.name, runs.status, runs.spec_path, runs.spec_sha256, runs.orchestrator, runs.created_at, runs.started_at, runs.ended_at, runs.git_commit, runs.git_dirty, runs.git_diff_sha256, runs.error_step, runs.error_type, runs.error_message, runs.host, runs.pid, runs.heartbeat_at, runs.boot_id, runs.pid_namespace \n"
            "FROM runs JOIN pipelines ON runs.pipeline_id = pipelines.id \n"
            "WHERE runs.id LIKE :pattern ESCAPE '\\'\n"
            " LIMIT :param_1 OFFSET :param_2"
        ),
        {"param_1": 2, "param_2": 0},
        (10,),
    ),
    "runs": SQLiteStatement(
        (
            "SELECT runs.id, pipelines.name, runs.status, runs.spec_path, runs.spec_sha256, runs.orchestrator, runs.created_at, runs.started_at, runs.ended_at, runs.git_commit, runs.git_dirty, runs.git_diff_sha256, runs.error_step, runs.error_type, runs.error_message, runs.host, runs.pid, runs.heartbeat_at, runs.boot_id, runs.pid_namespace \n"
            "FROM runs JOIN pipelines ON runs.pipeline_id = pipelines.id ORDER BY runs.created_at DESC, runs.id DESC"
        ),
        {},
        (10,),
    ),
    "runs+limit": SQLiteStatement(
        (
            "SELECT runs.id, pipelines.name, runs.status, runs.spec_path, runs.spec_sha256, runs.orchestrator, runs.created_at, runs.started_at, runs.ended_at, runs.git_commit, runs.git_dirty, runs.git_diff_sha256, runs.error_step, runs.error_type, runs.error_message, runs.host, runs.pid, runs.heartbeat_at, runs.boot_id, runs.pid_namespace \n"
            "FROM runs JOIN pipelines ON runs.pipeline_id = pipelines.id ORDER BY runs.created_at DESC, runs.id DESC\n"
            " LIMIT :limit OFFSET :param_1"
        ),
        {"param_1": 0},
        (10,),
    ),
    "runs+status": SQLiteStatement(
        (
            "SELECT runs.id, pipelines.name, runs.status, runs.spec_path, runs.spec_sha256, runs.orchestrator, runs.created_at, runs.started_at, runs.ended_at, runs.git_commit, runs.git_dirty, runs.git_diff_sha256, runs.error_step, runs.error_type, runs.error_message, runs.host, runs.pid, runs.heartbeat_at, runs.boot_id, runs.pid_namespace \n"
            "FROM runs JOIN pipelines ON runs.pipeline_id = pipelines.id \n"
            "WHERE runs.status = :status ORDER BY runs.created_at DESC, runs.id DESC"
        ),
        {},
        (10,),
    ),
    "runs+status+limit": SQLiteStatement(
        (
            "SELECT runs.id, pipelines.name, runs.status, runs.spec_path, runs.spec_sha256, runs.orchestrator, runs.created_at, runs.started_at, runs.ended_at, runs.git_commit, runs.git_dirty, runs.git_diff_sha256, runs.error_step, runs.error_type, runs.error_message, runs.host, runs.pid, runs.heartbeat_at, runs.boot_id, runs.pid_namespace \n"
            "FROM runs JOIN pipelines ON runs.pipeline_id = pipelines.id \n"
            "WHERE runs.status = :status ORDER BY runs.created_at DESC, runs.id DESC\n"
            " LIMIT :limit OFFSET :param_1"
        ),
        {"param_1": 0},
        (10,),
    ),
    "runs+pipeline": SQLiteStatement(
        (
            "SELECT runs.id, pipelines.name, runs.status, runs.spec_path, runs.spec_sha256, runs.orchestrator, runs.created_at, runs.started_at, runs.ended_at, runs.git_commit, runs.git_dirty, runs.git_diff_sha256, runs.error_step, runs.error_type, runs.error_message, runs.host, runs.pid, runs.heartbeat_at, runs.boot_id, runs.pid_namespace \n"
            "FROM runs JOIN pipelines ON runs.pipeline_id = pipelines.id \n"
            "WHERE pipelines.name = :pipeline ORDER BY runs.created_at DESC, runs.id DESC"
        ),
        {},
        (10,),
    ),
    "runs+pipeline+limit": SQLiteStatement(
        (
            "SELECT runs.id, pipelines.name, runs.status, runs.spec_path, runs.spec_sha256, runs.orchestrator, runs.created_at, runs.started_at, runs.ended_at, runs.git_commit, runs.git_dirty, runs.git_diff_sha256, runs.error_step, runs.error_type, runs.error_message, runs.host, runs.pid, runs.heartbeat_at, runs.boot_id, runs.pid_namespace \n"
            "FROM runs JOIN pipelines ON runs.pipeline_id = pipelines.id \n"
            "WHERE pipelines.name = :pipeline ORDER BY runs.created_at DESC, runs.id DESC\n"
            " LIMIT :limit OFFSET :param_1"
        ),
        {"param_1": 0},
        (10,),
    ),
    "runs+pipeline+status": SQLiteStatement(
        (
            "SELECT runs.id, pipelines.name, runs.status, runs.spec_path, runs.spec_sha256, runs.orchestrator, runs.created_at, runs.started_at, runs.ended_at, runs.git_commit, runs.git_dirty, runs.git_diff_sha256, runs.error_step, runs.error_type, runs.error_message, runs.host, runs.pid, runs.heartbeat_at, runs.boot_id, runs.pid_namespace \n"
            "FROM runs JOIN pipelines ON runs.pipeline_id = pipelines.id \n"
            "WHERE pipelines.name = :pipeline AND runs.status = :status ORDER BY runs.created_at DESC, runs.id DESC"
        ),
        {},
        (10,),
    ),
    "runs+pipeline+status+limit": SQLiteStatement(
        (
            "SELECT runs.id, pipelines.name, runs.status, runs.spec_path, runs.spec_sha256, runs.orchestrator, runs.created_at, runs.started_at, runs.ended_at, runs.git_commit, runs.git_dirty, runs.git_diff_sha256, runs.error_step, runs.error_type, runs.error_message, runs.host, runs.pid, runs.heartbeat_at, runs.boot_id, runs.pid_namespace \n"
            "FROM runs JOIN pipelines ON runs.pipeline_id = pipelines.id \n"
            "WHERE pipelines.name = :pipeline AND runs.status = :status ORDER BY runs.created_at DESC, runs.id DESC\n"
            " LIMIT :limit OFFSET :param_1"
        ),
        {"param_1": 0},
        (10,),
    ),
    "step.id": SQLiteStatement(
        (
            "SELECT step_runs.id \n"
            "FROM step_runs \n"
            "WHERE step_runs.run_id = :run_id AND step_runs.name = :name"
        ),
        {},
        (),
    ),
    "step.insert": SQLiteStatement(
        (
            "INSERT INTO step_runs (run_id, name, type, status, params, cache_key, code_hash, cache_components, started_at) VALUES (:run_id, :name, :type, :status, :params, :cache_key, :code_hash, :cache_components, :started_at)"
        ),
        {},
        (),
    ),
    "step.reset.events": SQLiteStatement(
        (
            "DELETE FROM events WHERE events.step_run_id = :step_run_id"
        ),
        {},
        (),
    ),
    "step.reset.metrics": SQLiteStatement(
        (
            "DELETE FROM metrics WHERE metrics.step_run_id = :step_run_id"
        ),
        {},
        (),
    ),
    "step.reset.deployments": SQLiteStatement(
        (
            "DELETE FROM deployments WHERE deployments.step_run_id = :step_run_id"
        ),
        {},
        (),
    ),
    "step.reset": SQLiteStatement(
        (
            "UPDATE step_runs SET type=:type, status=:status, params=:params, cache_key=:cache_key, code_hash=:code_hash, cache_components=:cache_components, cached_from_id=:cached_from_id, started_at=:started_at, ended_at=:ended_at, error_type=:error_type, error_message=:error_message WHERE step_runs.id = :step_run_id"
        ),
        {},
        (),
    ),
    "step.run_id": SQLiteStatement(
        (
            "SELECT step_runs.run_id \n"
            "FROM step_runs \n"
            "WHERE step_runs.id = :step_run_id"
        ),
        {},
        (),
    ),
    "step.finish": SQLiteStatement(
        (
            "UPDATE step_runs SET status=:status, cached_from_id=:cached_from_id, ended_at=:ended_at WHERE step_runs.id = :step_run_id"
        ),
        {},
        (),
    ),
    "step.fail": SQLiteStatement(
        (
            "UPDATE step_runs SET status=:status, ended_at=:ended_at, error_type=:error_type, error_message=:error_message WHERE step_runs.id = :step_run_id"
        ),
        {},
        (),
    ),
    "step.by_id": SQLiteStatement(
        (
            "SELECT step_runs.id, step_runs.run_id, step_runs.name, step_runs.type, step_runs.status, step_runs.params, step_runs.cache_key, step_runs.code_hash, step_runs.cache_components, step_runs.cached_from_id, step_runs.started_at, step_runs.ended_at, step_runs.error_type, step_runs.error_message \n"
            "FROM step_runs \n"
            "WHERE step_runs.id = :step_run_id"
        ),
        {},
        (),
    ),
    "steps.of_run": SQLiteStatement(
        (
            "SELECT step_runs.id, step_runs.run_id, step_runs.name, step_runs.type, step_runs.status, step_runs.params, step_runs.cache_key, step_runs.code_hash, step_runs.cache_components, step_runs.cached_from_id, step_runs.started_at, step_runs.ended_at, step_runs.error_type, step_runs.error_message \n"
            "FROM step_runs \n"
            "WHERE step_runs.run_id = :run_id ORDER BY step_runs.id"
        ),
        {},
        (),
    ),
    "step.artifacts": SQLiteStatement(
        (
            "SELECT events.name, artifacts.id, artifacts.uri, artifacts.format, artifacts.materializer, artifacts.data_type, artifacts.content_hash, artifacts.size, artifacts.created_at, artifacts.producer_id \n"
            "FROM events JOIN artifacts ON events.artifact_id = artifacts.id \n"
            "WHERE events.step_run_id = :step_run_id AND events.kind = :kind ORDER BY events.id"
        ),
        {},
        (),
    ),
    "step.metrics": SQLiteStatement(
        (
            "SELECT metrics.name, metrics.value \n"
            "FROM metrics \n"
            "WHERE metrics.step_run_id = :step_run_id"
        ),
        {},
        (),
    ),
    "step.closest+name": SQLiteStatement(
        (
            "SELECT step_runs.id, step_runs.run_id, step_runs.name, step_runs.type, step_runs.status, step_runs.params, step_runs.cache_key, step_runs.code_hash, step_runs.cache_components, step_runs.cached_from_id, step_runs.started_at, step_runs.ended_at, step_runs.error_type, step_runs.error_message \n"
            "FROM step_runs JOIN runs ON step_runs.run_id = runs.id JOIN pipelines ON runs.pipeline_id = pipelines.id \n"
            "WHERE step_runs.cache_components IS NOT NULL AND step_runs.status != :status_1 AND pipelines.name = :pipeline AND step_runs.name = :name ORDER BY step_runs.id DESC\n"
            " LIMIT :param_1 OFFSET :param_2"
        ),
        {"status_1": StepStatus.CACHED, "param_1": 1, "param_2": 0},
        (),
    ),
    "step.closest+type": SQLiteStatement(
        (
            "SELECT step_runs.id, step_runs.run_id, step_runs.name, step_runs.type, step_runs.status, step_runs.params, step_runs.cache_key, step_runs.code_hash, step_runs.cache_components, step_runs.cached_from_id, step_runs.started_at, step_runs.ended_at, step_runs.error_type, step_runs.error_message \n"
            "FROM step_runs JOIN runs ON step_runs.run_id = runs.id JOIN pipelines ON runs.pipeline_id = pipelines.id \n"
            "WHERE step_runs.cache_components IS NOT NULL AND step_runs.status != :status_1 AND step_runs.type = :type ORDER BY step_runs.id DESC\n"
            " LIMIT :param_1 OFFSET :param_2"
        ),
        {"status_1": StepStatus.CACHED, "param_1": 1, "param_2": 0},
        (),
    ),
    "step.find_cached": SQLiteStatement(
        (
            "SELECT latest.id, latest.run_id, latest.name, latest.type, latest.status, latest.params, latest.cache_key, latest.code_hash, latest.cache_components, latest.cached_from_id, latest.started_at, latest.ended_at, latest.error_type, latest.error_message, events.name AS name_1, artifacts.id AS id_1, artifacts.uri, artifacts.format, artifacts.materializer, artifacts.data_type, artifacts.content_hash, artifacts.size, artifacts.created_at, artifacts.producer_id \n"
            "FROM (SELECT step_runs.id AS id, step_runs.run_id AS run_id, step_runs.name AS name, step_runs.type AS type, step_runs.status AS status, step_runs.params AS params, step_runs.cache_key AS cache_key, step_runs.code_hash AS code_hash, step_runs.cache_components AS cache_components, step_runs.cached_from_id AS cached_from_id, step_runs.started_at AS started_at, step_runs.ended_at AS ended_at, step_runs.error_type AS error_type, step_runs.error_message AS error_message \n"
            "FROM step_runs \n"
            "WHERE step_runs.cache_key = :cache_key AND step_runs.status = :status_1 ORDER BY step_runs.id DESC\n"
            " LIMIT :limit OFFSET :param_1) AS latest LEFT OUTER JOIN events ON events.step_run_id = latest.id AND events.kind = :kind_1 LEFT OUTER JOIN artifacts ON artifacts.id = events.artifact_id ORDER BY latest.id DESC, events.id"
        ),
        {"status_1": StepStatus.COMPLETED, "param_1": 0, "kind_1": "output"},
        (),
    ),
    "run.outputs": SQLiteStatement(
        (
            "SELECT step_runs.name, events.name AS name_1, artifacts.id, artifacts.uri, artifacts.format, artifacts.materializer, artifacts.data_type, artifacts.content_hash, artifacts.size, artifacts.created_at, artifacts.producer_id \n"
            "FROM step_runs JOIN events ON events.step_run_id = step_runs.id JOIN artifacts ON events.artifact_id = artifacts.id \n"
            "WHERE step_runs.run_id = :run_id AND events.kind = :kind_1 AND step_runs.status IN (:status_1_1, :status_1_2)"
        ),
        {"kind_1": "output", "status_1_1": StepStatus.COMPLETED, "status_1_2": StepStatus.CACHED},
        (),
    ),
    "run.outputs+steps": SQLiteStatement(
        (
            "SELECT step_runs.name, events.name AS name_1, artifacts.id, artifacts.uri, artifacts.format, artifacts.materializer, artifacts.data_type, artifacts.content_hash, artifacts.size, artifacts.created_at, artifacts.producer_id \n"
            "FROM step_runs JOIN events ON events.step_run_id = step_runs.id JOIN artifacts ON events.artifact_id = artifacts.id \n"
            "WHERE step_runs.run_id = :run_id AND events.kind = :kind_1 AND step_runs.status IN (:status_1_1, :status_1_2) AND step_runs.name IN (__[POSTCOMPILE_steps])"
        ),
        {"kind_1": "output", "status_1_1": StepStatus.COMPLETED, "status_1_2": StepStatus.CACHED},
        (),
    ),
    "artifact.insert": SQLiteStatement(
        (
            "INSERT INTO artifacts (uri, format, materializer, data_type, content_hash, size, created_at, producer_id) VALUES (:uri, :format, :materializer, :data_type, :content_hash, :size, :created_at, :producer_id)"
        ),
        {},
        (),
    ),
    "artifact.by_id": SQLiteStatement(
        (
            "SELECT artifacts.id, artifacts.uri, artifacts.format, artifacts.materializer, artifacts.data_type, artifacts.content_hash, artifacts.size, artifacts.created_at, artifacts.producer_id \n"
            "FROM artifacts \n"
            "WHERE artifacts.id = :artifact_id"
        ),
        {},
        (),
    ),
    "event.insert": SQLiteStatement(
        (
            "INSERT INTO events (step_run_id, artifact_id, kind, name) VALUES (:step_run_id, :artifact_id, :kind, :name)"
        ),
        {},
        (),
    ),
    "metric.insert": SQLiteStatement(
        (
            "INSERT INTO metrics (step_run_id, name, value) VALUES (:step_run_id, :name, :value)"
        ),
        {},
        (),
    ),
    "deployment.insert": SQLiteStatement(
        (
            "INSERT INTO deployments (step_run_id, run_id, deployed, uri, gate, reason, metrics, created_at) VALUES (:step_run_id, :run_id, :deployed, :uri, :gate, :reason, :metrics, :created_at)"
        ),
        {},
        (),
    ),
}
