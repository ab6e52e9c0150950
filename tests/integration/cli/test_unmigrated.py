"""Commands that read or write rows on a database that was never migrated stop with a clear message."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from bridge.cli import main


@pytest.mark.parametrize(
    "command",
    [["sweep"], ["relay"], ["replay", "1"], ["replay", "--failed"], ["keys", "status"]],
)
def test_a_command_on_an_empty_database_says_to_migrate_first(command, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("ENCRYPTION_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.delenv("REDIS_URL", raising=False)
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1, result.output
    assert "run `relance db upgrade` first" in result.output
    assert isinstance(result.exception, SystemExit)  # click's own exit, not an error escaping the command
