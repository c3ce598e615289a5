"""Run the test suite against throwaway PostgreSQL and Redis servers.

`make test` calls this. It starts a private PostgreSQL cluster and a Redis server from the
installed Debian binaries on free loopback ports, runs pytest against them with
REQUIRE_SERVICES=1 (so no test can quietly fall back to SQLite or eager tasks), and stops
both afterwards. A missing binary stops the run with the name of the package to install.

PostgreSQL refuses to run as root; as root the cluster is created and run as the `postgres`
system user (runuser), which is how Debian's own tools do it.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fail(message: str) -> None:
    print(f"make test: {message}", file=sys.stderr)
    sys.exit(2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bindir() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3]),
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    fail(
        "PostgreSQL server binaries (initdb, pg_ctl) not found. "
        "Install the Debian package 'postgresql' (apt-get install postgresql)."
    )
    raise AssertionError


def redis_binary() -> str:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )
    if not found:
        fail(
            "redis-server not found. "
            "Install the Debian package 'redis-server' (apt-get install redis-server)."
        )
    return found


def as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL will not run as root: use the postgres system user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def start_postgres(workdir: Path) -> tuple[str, Callable[[], None]]:
    bindir = postgres_bindir()
    datadir = workdir / "pgdata"
    datadir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
        shutil.chown(datadir, "postgres")
    user = "root" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    subprocess.run(
        as_postgres_user(
            [
                str(bindir / "initdb"),
                "-D",
                str(datadir),
                "-U",
                user,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    # Durability is worth nothing for a throwaway test cluster; speed is.
    options = (
        f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    subprocess.run(
        as_postgres_user(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(datadir),
                "-o",
                options,
                "-w",
                "-l",
                str(workdir / "postgres.log"),
                "start",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )

    def stop() -> None:
        subprocess.run(
            as_postgres_user(
                [str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"]
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    return f"postgresql://{user}@127.0.0.1:{port}/cluster_monitor", stop


def start_redis(workdir: Path) -> tuple[str, Callable[[], None]]:
    port = free_port()
    process = subprocess.Popen(
        [
            redis_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        process.kill()
        fail("redis-server did not start within 10 seconds")

    def stop() -> None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)

    return f"redis://127.0.0.1:{port}/0", stop


def create_database(database_url: str) -> None:
    """The application database (pytest makes its own test database; other commands need
    this one)."""
    import psycopg

    base, _, name = database_url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')


def main(args: list[str]) -> int:
    """`run_with_services.py [pytest args]` runs the tests; `run_with_services.py --exec
    COMMAND...` runs any command (the benchmark) against the same throwaway servers."""
    workdir = Path(tempfile.mkdtemp(prefix="cluster-monitor-test-"))
    os.chmod(workdir, 0o755)
    stops = []
    try:
        database_url, stop = start_postgres(workdir)
        stops.append(stop)
        redis_url, stop = start_redis(workdir)
        stops.append(stop)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": redis_url,
            "REQUIRE_SERVICES": "1",
        }
        print(f"PostgreSQL: {database_url}\nRedis: {redis_url}", flush=True)
        if args[:1] == ["--exec"]:
            create_database(database_url)
            return subprocess.call(args[1:], cwd=ROOT, env=env)
        return subprocess.call([sys.executable, "-m", "pytest", *args], cwd=ROOT, env=env)
    finally:
        for stop in reversed(stops):
            stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
