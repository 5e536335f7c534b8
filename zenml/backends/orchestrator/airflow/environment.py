"""Where Airflow runs for a project: its home and folders, its environment, its database, and the install check."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from zenml.backends.orchestrator.airflow.supervision import OUTPUT_TAIL_LINES
from zenml.exceptions import BackendError, ConfigError

MIGRATE_TIMEOUT_SECONDS = 600.0


def require_airflow() -> None:
    """Check Airflow is installed, without importing it here (``import zenml`` must stay light).

    Raises:
        BackendError: it is not.
    """
    if importlib.util.find_spec("airflow") is None:
        raise BackendError("AirflowOrchestrator needs Airflow: pip install 'zenml[airflow]'")


def resolve_path(path: str, project_root: Path) -> Path:
    """``path`` with ``~`` expanded, relative paths taken from ``project_root``, made absolute."""
    candidate = Path(path).expanduser()
    return (candidate if candidate.is_absolute() else project_root / candidate).resolve()


def check_writable(folder: Path) -> None:
    """Create ``folder`` if needed and prove it is writable by writing and deleting a probe file.

    Raises:
        ConfigError: it cannot be created or written.
    """
    probe = folder / f".zenml-probe-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"Airflow DAGs folder '{folder}' is not writable ({reason}); pass --backend-opt "
            "orchestrator.dags_folder=PATH with a folder you can write"
        ) from exc


def write_atomically(path: Path, text: str) -> None:
    """Write ``path`` so that a DAG processor never parses half a file (a hidden ``.tmp`` then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def airflow_env(home: Path, dags: Path) -> dict[str, str]:
    """The environment of this process (so the ``ZEN_*`` store settings reach the tasks) plus Airflow's."""
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }


def ensure_airflow_db(home: Path, env: dict[str, str], cwd: Path) -> None:
    """Run ``airflow db migrate`` once per Airflow home and version (about 3 s on SQLite).

    Raises:
        BackendError: the migration failed.
    """
    marker = home / ".zenml-db-migrated"
    version = importlib.metadata.version("apache-airflow-core")
    if _migrated(marker, home, env, version):
        return
    with _locked(home / ".zenml-db-migrate.lock"):
        if _migrated(marker, home, env, version):  # another run migrated it while this one waited
            return
        try:
            done = subprocess.run(
                [sys.executable, "-m", "airflow", "db", "migrate"],
                env=env,
                cwd=cwd,
                capture_output=True,
                text=True,
                check=False,
                timeout=MIGRATE_TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired as exc:
            raise BackendError(
                f"'airflow db migrate' in {home} did not finish within {MIGRATE_TIMEOUT_SECONDS:g} s; "
                "is another process holding Airflow's database?"
            ) from exc
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-OUTPUT_TAIL_LINES:])
            raise BackendError(f"'airflow db migrate' failed in {home} (exit {done.returncode}):\n{tail}")
        marker.write_text(version)


def _migrated(marker: Path, home: Path, env: dict[str, str], version: str) -> bool:
    default_db = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in env
    exists = marker.is_file() and marker.read_text() == version
    return exists and (not default_db or (home / "airflow.db").is_file())


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` across processes (concurrent runs must not migrate at once)."""
    import fcntl  # POSIX only, like Airflow itself

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
