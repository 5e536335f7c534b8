"""Private PostgreSQL and MariaDB servers owned by one test, which it may kill and start again at will.

The shared servers other tests use must never be stopped, so fault tests run their own: a fresh
data folder under /tmp, a free port on 127.0.0.1, trust authentication, and everything removed at
the end. Binaries that are missing skip the test (or fail it under ZEN_TEST_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import abc
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REQUIRE_SERVICES = os.environ.get("ZEN_TEST_REQUIRE_SERVICES") == "1"
READY_TIMEOUT_S = 60.0
#: The password every private server's URL carries: trust authentication ignores it, so tests can
#: check it never reaches a message.
PASSWORD = "s3cret-zen-pw"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def unavailable(what: str) -> None:
    """Skip (or, when services are required, fail) because ``what`` is missing here."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what}; ZEN_TEST_REQUIRE_SERVICES=1 requires it")
    pytest.skip(what)


class PrivateServer(abc.ABC):
    """A database server in a temporary folder; ``start``/``kill`` as often as a test wants."""

    name: str

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix=f"zen-{self.name}-"))
        self.data = self.folder / "data"

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """The SQLAlchemy URL of the server's test database (with :data:`PASSWORD`)."""

    @abc.abstractmethod
    def initialise(self) -> None:
        """Create the data folder (once)."""

    @abc.abstractmethod
    def start(self) -> None:
        """Start the server and return when it accepts connections."""

    @abc.abstractmethod
    def kill(self) -> None:
        """Stop the server at once, as a crash or a lost machine would (no clean shutdown)."""

    def close(self) -> None:
        """Stop the server if it runs and delete its folder."""
        try:
            self.kill()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def wait_ready(self) -> None:
        """Poll with a real connection until the server answers a query."""
        import sqlalchemy as sa

        engine = sa.create_engine(self.url, poolclass=sa.NullPool, connect_args={"connect_timeout": 2})
        deadline = time.monotonic() + READY_TIMEOUT_S
        try:
            while True:
                try:
                    with engine.connect() as connection:
                        connection.exec_driver_sql("SELECT 1")
                    return
                except sa.exc.OperationalError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        finally:
            engine.dispose()

    def _log_tail(self, path: Path) -> str:
        return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"


class PrivatePostgres(PrivateServer):
    """``initdb`` + ``pg_ctl`` (as the ``postgres`` user when run as root: initdb refuses root)."""

    name = "postgres"

    def __init__(self, bin_dir: Path) -> None:
        super().__init__()
        self.bin_dir = bin_dir
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")

    @classmethod
    def find(cls) -> PrivatePostgres:
        """A server from the newest installed PostgreSQL, or skip when there is none."""
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
        found = [Path(p) for p in candidates if Path(p, "initdb").exists()]
        on_path = shutil.which("pg_ctl")
        if not found and on_path:
            found = [Path(on_path).parent]
        if not found:
            unavailable("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        return cls(found[-1])

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def _as_owner(self, *command: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)

    def initialise(self) -> None:
        initdb = str(self.bin_dir / "initdb")
        command = [initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]
        subprocess.run(self._as_owner(*command), check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        command = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "log")]
        result = subprocess.run(self._as_owner(*command, "-w", "start"), capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {result.stderr}\n{self._log_tail(self.folder / 'log')}")
        self.wait_ready()

    def kill(self) -> None:
        if not (self.data / "postmaster.pid").exists():
            return
        command = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]
        subprocess.run(self._as_owner(*command), check=True, capture_output=True, timeout=120)


class PrivateMariaDB(PrivateServer):
    """``mariadb-install-db`` + ``mariadbd`` with no grant tables (root needs no password)."""

    name = "mariadb"

    def __init__(self, install_db: str, server: str) -> None:
        super().__init__()
        self.install_db, self.server = install_db, server
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def find(cls) -> PrivateMariaDB:
        """A server from the installed MariaDB, or skip when there is none."""
        install_db = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        server = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin:/usr/local/sbin")
        if not install_db or not server:
            unavailable("MariaDB server binaries (mariadb-install-db, mariadbd) are not installed")
        assert install_db is not None and server is not None
        return cls(install_db, server)

    @property
    def url(self) -> str:
        return f"mysql+pymysql://root:{PASSWORD}@127.0.0.1:{self.port}/zen"

    def _user(self) -> list[str]:
        return ["--user=root"] if os.geteuid() == 0 else []

    def initialise(self) -> None:
        command = [
            self.install_db,
            "--no-defaults",
            f"--datadir={self.data}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            *self._user(),
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=120)
        (self.data / "zen").mkdir()  # a database is a folder: the URL's 'zen' exists from the start

    def start(self) -> None:
        log = self.folder / "server.log"
        command = [
            self.server,
            "--no-defaults",
            f"--datadir={self.data}",
            f"--port={self.port}",
            f"--socket={self.folder / 'sock'}",
            "--bind-address=127.0.0.1",
            "--skip-grant-tables",
            f"--log-error={log}",
            f"--pid-file={self.folder / 'pid'}",
            *self._user(),
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.wait_ready()
        except Exception as exc:
            self.kill()
            raise RuntimeError(f"mariadbd did not start: {self._log_tail(log)}") from exc

    def kill(self) -> None:
        if self.process is None:
            return
        self.process.kill()  # SIGKILL: the server gets no chance to say goodbye to its clients
        self.process.wait(timeout=60)
        self.process = None
