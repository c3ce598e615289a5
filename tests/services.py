"""Real processes for the fault and deployment tests: a private Redis server that a test can
stop and start again, Celery workers and gunicorn, all on the test database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def require_services() -> None:
    if connection.vendor != "postgresql" or settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.fail("This test needs PostgreSQL and Redis: run it with `make test`.")


def database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgresql://{s['USER']}{password}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, seconds: float = 60, what: str = ""):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"not within {seconds} s: {what or check.__doc__}")


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> RedisServer:
        import redis

        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for(lambda: _pings(redis, self.url), 20, "redis-server answers")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def _pings(redis, url) -> bool:
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


def service_env(broker: str, **extra) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker,
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    return env


def start_worker(broker: str, *, logfile: Path | None = None, **extra) -> subprocess.Popen:
    """`celery -A cluster worker` as documented, one process (solo pool). `logfile`: its
    log at INFO (each task received and done, with its seconds) goes there."""
    logging = ["--loglevel=WARNING"]
    if logfile is not None:
        logging = ["--loglevel=INFO", f"--logfile={logfile}"]
        extra = {"LOG_LEVEL": "INFO", **extra}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cluster",
            "worker",
            "--pool=solo",
            *logging,
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=service_env(broker, **extra),
        start_new_session=True,
    )


def kill(process: subprocess.Popen) -> None:
    """SIGKILL to the process group: the worker dies without a word, as in an OOM kill."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            kill(process)


def start_gunicorn(
    env: dict, *, workers: int = 2, threads: int = 1
) -> tuple[subprocess.Popen, str]:
    """The production server as README "Deployment" runs it, on a free loopback port."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "cluster.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    if threads > 1:
        command += ["--threads", str(threads), "--worker-class", "gthread"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    return server, f"http://127.0.0.1:{port}"
