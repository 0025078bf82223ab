"""bin/setup-system: what `make run` and `make test` set up on the machine first."""

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INSTALLED = "dpkg"  # every Debian system has it


def _setup(target: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "bin/setup-system", target], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


def test_with_everything_present_it_does_nothing_and_says_nothing():
    result = _setup("run", SYSTEM_PACKAGES=INSTALLED)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_a_missing_package_it_cannot_install_stops_it_with_the_command_to_run(tmp_path):
    # No apt-get on the PATH (nor sudo): it cannot install, so it says how.
    (tmp_path / "dpkg-query").symlink_to("/usr/bin/dpkg-query")
    result = _setup("run", SYSTEM_PACKAGES="oms-no-such-package", PATH=str(tmp_path))
    assert result.returncode == 1
    assert ("\n  sudo apt-get install -y --no-install-recommends oms-no-such-package\n"
            in result.stderr + "\n")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis(port: int, command: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(command + b"\r\n")
        return conn.recv(64)


def test_a_local_redis_that_does_not_answer_is_started_and_waited_for():
    port = _free_port()
    result = _setup("test", SYSTEM_PACKAGES=INSTALLED, CHROMIUM_PATH=sys.executable,
                    REDIS_URL=f"redis://127.0.0.1:{port}/0")
    try:
        assert result.returncode == 0, result.stderr
        assert f"Redis on port {port} answers" in result.stdout
        assert _redis(port, b"PING") == b"+PONG\r\n"
    finally:
        # OSError: it never started, or it closed the connection while stopping.
        with contextlib.suppress(OSError):
            _redis(port, b"SHUTDOWN NOSAVE")
        Path(tempfile.gettempdir(), f"oms-redis-{port}.log").unlink(missing_ok=True)
