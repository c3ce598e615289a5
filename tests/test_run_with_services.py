"""make test names the Debian package to install when a server binary is missing."""

import pytest

from tests import run_with_services


def test_missing_postgresql_names_the_package(monkeypatch, capsys):
    monkeypatch.setattr(run_with_services.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(run_with_services.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit) as caught:
        run_with_services.postgres_bindir()
    assert caught.value.code == 2
    assert "Install the Debian package 'postgresql'" in capsys.readouterr().err


def test_missing_redis_names_the_package(monkeypatch, capsys):
    monkeypatch.setattr(run_with_services.shutil, "which", lambda name: None)
    monkeypatch.setattr(run_with_services.os.path, "exists", lambda path: False)
    with pytest.raises(SystemExit):
        run_with_services.redis_binary()
    assert "Install the Debian package 'redis-server'" in capsys.readouterr().err


def test_newest_installed_postgresql_is_chosen(monkeypatch):
    monkeypatch.setattr(
        run_with_services.glob,
        "glob",
        lambda pattern: ["/usr/lib/postgresql/9/bin/initdb", "/usr/lib/postgresql/15/bin/initdb"],
    )
    assert str(run_with_services.postgres_bindir()) == "/usr/lib/postgresql/15/bin"
