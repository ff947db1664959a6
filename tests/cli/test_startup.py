"""`recloop serve` start-up checks and the CLI's error/help conventions (no model needed:
every check here fails before the runtime is built)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from recloop.api.deps import admin_key_matches
from recloop.cli import app
from recloop.cli.output import GuardedGroup
from recloop.config import Settings, get_settings, unknown_env_names
from recloop.errors import ConfigError

runner = CliRunner()


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No RECLOOP_* from the caller's environment; an empty home; the settings cache cleared."""
    import os

    for name in [n for n in os.environ if n.startswith("RECLOOP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("RECLOOP_HOME", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def one_line_error(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("key", [None, "change-me"])
def test_serve_refuses_without_a_real_admin_key(env: Path, monkeypatch: pytest.MonkeyPatch,
                                                key: str | None) -> None:  # fmt: skip
    if key is not None:
        monkeypatch.setenv("RECLOOP_ADMIN_API_KEY", key)
    result = runner.invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 78
    line = one_line_error(result.stderr)
    assert "RECLOOP_ADMIN_API_KEY" in line and "--insecure-dev" in line
    assert "starting on" not in result.stdout  # refused before anything else


def test_an_empty_admin_key_is_a_configuration_error(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECLOOP_ADMIN_API_KEY", "  ")
    result = runner.invoke(app, ["serve", "--insecure-dev"])  # not even insecure mode accepts it
    assert result.exit_code == 78
    assert "RECLOOP_ADMIN_API_KEY" in one_line_error(result.stderr)
    assert "RECLOOP_STATE__TYPE must be set" not in result.stderr  # that hint is for state errors only


def test_admin_key_comparison() -> None:
    assert admin_key_matches("s3cret-key", "s3cret-key")
    assert not admin_key_matches("s3cret-kez", "s3cret-key")
    for given in ("", None):
        for expected in ("s3cret-key", "", None, "change-me"):
            assert not admin_key_matches(given, expected)
    assert not admin_key_matches("change-me", "change-me")  # the old default never authorises
    assert not admin_key_matches("anything", None)  # insecure dev mode: no admin at all
    assert not admin_key_matches("ключ", "s3cret-key")  # non-ASCII header: no crash, no match


def test_admin_key_from_a_file(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = env / "admin_api_key"
    key_file.write_text("from-the-file\n")
    monkeypatch.setenv("RECLOOP_ADMIN_API_KEY_FILE", str(key_file))
    settings = get_settings()
    assert settings.admin_api_key == "from-the-file"
    assert str(key_file) in settings.admin_key_source()
    settings.check_admin_key()
    key_file.write_text("\n")
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match="is empty"):
        get_settings()


def test_busy_port_fails_at_once_with_the_fix(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECLOOP_ADMIN_API_KEY", "a-test-key-for-the-port-check")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 69
    line = one_line_error(result.stderr)
    assert f"port {port} on 127.0.0.1 is already in use" in line and "--port" in line


def test_unknown_recloop_names_warn_with_did_you_mean(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECLOOP_STATE_TYPE", "redis")
    monkeypatch.setenv("RECLOOP_ADMIN_KEY", "x")
    result = runner.invoke(app, ["state", "info"])
    assert result.exit_code == 0, result.output
    assert "warning: RECLOOP_STATE_TYPE is not a recloop setting and is ignored; did you mean " \
           "RECLOOP_STATE__TYPE?" in result.stderr  # fmt: skip
    assert "did you mean RECLOOP_ADMIN_API_KEY?" in result.stderr
    assert "state: memory" in result.stdout  # what the typo silently gave
    assert unknown_env_names({"RECLOOP_HOME": "/", "RECLOOP_STATE__URL": "redis://x", "OTHER": ""}) == []


def test_state_hint_only_for_state_errors(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECLOOP_STATE__URL", "redis://127.0.0.1:6379/0")  # no TYPE
    result = runner.invoke(app, ["state", "info"])
    assert result.exit_code == 78
    assert "RECLOOP_STATE__TYPE must be set to memory or redis" in one_line_error(result.stderr)
    monkeypatch.delenv("RECLOOP_STATE__URL")
    monkeypatch.setenv("RECLOOP_DRIFT_INTERVAL_S", "-1")
    get_settings.cache_clear()
    result = runner.invoke(app, ["state", "info"])
    line = one_line_error(result.stderr)
    assert "RECLOOP_DRIFT_INTERVAL_S" in line and "RECLOOP_STATE__TYPE" not in line


def test_a_wrong_redis_url_is_one_line(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECLOOP_STATE__TYPE", "redis")
    monkeypatch.setenv("RECLOOP_STATE__URL", "http://127.0.0.1:6379")
    result = runner.invoke(app, ["serve", "--insecure-dev"])
    assert result.exit_code == 78
    assert "is not a Redis URL" in one_line_error(result.stderr)
    with pytest.raises(ValueError, match="redis://HOST:PORT/DB"):
        Settings(state={"type": "redis", "url": "localhost:6379"})  # type: ignore[arg-type]


def test_any_recloop_error_is_one_line_and_an_exit_code() -> None:
    demo = typer.Typer(cls=GuardedGroup)

    @demo.command()
    def boom() -> None:
        raise ConfigError("a long message that names the fix " * 6)

    @demo.command()
    def other() -> None: ...

    result = runner.invoke(demo, ["boom"], terminal_width=80)
    assert result.exit_code == 78
    assert one_line_error(result.stderr).endswith("names the fix")


def test_version(env: Path) -> None:
    from recloop import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"recloop {__version__}"


def _commands(group: typer.Typer) -> list[list[str]]:
    import typer.main

    root = typer.main.get_command(group)
    out: list[list[str]] = [[]]

    def walk(cmd: object, path: list[str]) -> None:
        for name, sub in getattr(cmd, "commands", {}).items():
            out.append([*path, name])
            walk(sub, [*path, name])

    walk(root, [])
    return out


def test_help_fits_80_columns_without_truncation(env: Path) -> None:
    for path in _commands(app):
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
        assert result.exit_code == 0, (path, result.output)
        for line in result.stdout.splitlines():
            assert len(line) <= 80, (path, line)
            assert not re.search(r"(…|\w\.\.\.)$", line.rstrip()), (path, line)


def test_the_held_socket_is_tcp_with_nagle_off() -> None:
    """asyncio sets TCP_NODELAY only on sockets whose protocol says TCP; with Nagle on, every
    response written in two parts waited 40 ms for the client's delayed ACK."""
    import asyncio

    from recloop.cli.serve import bind_port

    sock = bind_port("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1

        async def accepted_nodelay() -> int:
            got: asyncio.Future[int] = asyncio.get_running_loop().create_future()

            def on_connect(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
                conn = w.get_extra_info("socket")
                got.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                w.close()

            server = await asyncio.start_server(on_connect, sock=sock)
            _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
            value = await asyncio.wait_for(got, 5)
            writer.close()
            server.close()
            return value

        assert asyncio.run(accepted_nodelay()) != 0
    finally:
        sock.close()
