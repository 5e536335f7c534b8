"""Running ``zen`` as a user's terminal does: on a pseudo-terminal that is its controlling terminal.

The process leads a session of its own whose controlling terminal is the pty, so Ctrl-C written to
the pty's master reaches its whole foreground process group (the CLI and the workers it started),
exactly as a key press in a shell would.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

ZEN = str(Path(sys.executable).parent / "zen")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]")

#: Runs in the child before ``zen``: ``start_new_session`` made it a session leader with no terminal;
#: this makes the pty on its stdin that session's controlling terminal (its group the foreground one).
_TAKE_TERMINAL = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); os.execvp(sys.argv[1], sys.argv[1:])"
)


class Terminal:
    """One command on a pseudo-terminal of its own; everything it writes is kept in ``output``."""

    def __init__(self, *args: str, cwd: Path, columns: int = 120, env: dict[str, str] | None = None) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        environment = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns), **(env or {})}
        for name in ("NO_COLOR", "FORCE_COLOR", "CI"):  # a terminal, not a CI log: let Rich see it is one
            environment.pop(name, None)
        self.process = subprocess.Popen(
            [sys.executable, "-c", _TAKE_TERMINAL, *args],
            cwd=cwd,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=environment,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self.session = self.process.pid
        self._chunks: list[bytes] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        # drained all the time: a process writing to a full pty blocks, which would look like a hang
        self._reader = threading.Thread(target=self._drain, name="pty-reader", daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while not self._closing.is_set():
            if not select.select([self.master], [], [], 0.1)[0]:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every process holding the terminal has closed it
                return
            if not chunk:
                return
            with self._lock:
                self._chunks.append(chunk)

    @property
    def raw(self) -> str:
        """Everything written to the terminal so far, escape sequences and carriage returns included."""
        with self._lock:
            return b"".join(self._chunks).decode("utf-8", "replace")

    @property
    def output(self) -> str:
        """What the terminal shows, roughly: escape sequences dropped, ``\\r\\n`` as ``\\n``."""
        return _ANSI.sub("", self.raw).replace("\r\n", "\n")

    def expect(self, text: str, timeout: float) -> None:
        """Wait until ``text`` has been written (fails with the output so far after ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        while text not in self.output:
            ended = self.process.poll() is not None
            if ended:
                self._reader.join(2)  # what it wrote last
            if text in self.output:
                return
            if ended or time.monotonic() > deadline:
                state = f"ended (exit {self.process.returncode})" if ended else f"not written within {timeout} s"
                raise AssertionError(f"{text!r} {state}; the terminal shows:\n{self.output}")
            time.sleep(0.05)

    def press_ctrl_c(self) -> None:
        """Type Ctrl-C: the terminal sends SIGINT to its foreground process group."""
        os.write(self.master, b"\x03")

    def wait(self, timeout: float) -> int:
        """The exit code, once the command ended within ``timeout`` s; a hang is killed and fails the test."""
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"still running after {timeout} s; the terminal shows:\n{self.output}") from None
        self._reader.join(2)  # what it wrote last (workers still holding the pty would keep it open)
        return code

    def leftovers(self) -> list[str]:
        """The processes of this terminal's session still alive (the command's workers), as ``pid cmdline``."""
        alive = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, IndexError):
                continue  # ended meanwhile
            if int(fields[3]) == self.session and fields[0] != "Z":  # fields: state, ppid, pgrp, session
                alive.append(f"{stat.parent.name} {cmdline.strip()}")
        return alive

    def kill(self) -> None:
        """End the whole session (the command and any worker), for a test that failed midway."""
        for pid in [self.session] + [int(line.split()[0]) for line in self.leftovers()]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(10)

    def close(self) -> None:
        """Kill what is left and release the pty."""
        if self.process.poll() is None or self.leftovers():
            self.kill()
        self._closing.set()
        self._reader.join(1)
        os.close(self.master)


def zen_in_terminal(*args: str, cwd: Path, timeout: float, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run ``zen ARGS`` on a pseudo-terminal to its end; return its exit code and what it showed."""
    terminal = Terminal(ZEN, *args, cwd=cwd, env=env)
    try:
        return terminal.wait(timeout), terminal.output
    finally:
        terminal.close()
