"""Every mistake in one line: each input that once ended in a traceback (or a wrong answer)
now ends in one line on stderr and its documented exit code, and never shows a key.

The commands run as real processes; none of these cases needs a Docker engine.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port, user_environment, xc_runner

cli_main = importlib.import_module("runner.cli.main")  # the module: runner.cli.main is main

KEY = "s3cret-key-value"


def one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def test_a_database_that_is_not_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "scenario.db"
    db.write_text("not a database, " * 100)
    for command in ("serve", "demo"):
        done = xc_runner(command, "--db", str(db), "--port", "0", timeout_s=60)
        said = one_line(done, 3)
        assert f"cannot open the local server's database {db}: file is not a database" in said


@pytest.mark.parametrize("key", [f"{KEY}\nmore", f"{KEY}\rx", f"{KEY}\u20ac", f"{KEY}\x00x"])
def test_a_key_a_header_cannot_carry_is_refused_and_never_shown(
    key: str, tmp_path: Path
) -> None:
    key_file = tmp_path / "apikey"
    key_file.write_text(key)
    from_file = xc_runner("status", "x", "--api-key-file", str(key_file))
    said = one_line(from_file, 2)
    assert "--api-key-file: the API key in" in said and "cannot carry" in said
    assert KEY not in said
    if "\x00" not in key:  # an environment variable cannot hold a NUL
        from_env = xc_runner("status", "x", env={"XC_SCENARIO_APIKEY": key})
        said = one_line(from_env, 2)
        assert "XC_SCENARIO_APIKEY: the API key holds a character" in said
        assert KEY not in said


def test_an_empty_key_is_refused_not_replaced_by_the_default() -> None:
    port = str(free_port())
    for command in (["status", "x"], ["watch"], ["submit", "ns", "t"], ["serve", "--port", port]):
        done = xc_runner(*command, "--port", port, env={"XC_SCENARIO_APIKEY": ""})
        assert "XC_SCENARIO_APIKEY: the API key is empty" in one_line(done, 2), command


def test_an_instance_id_that_is_not_text() -> None:
    done = xc_runner("status", "id\udcff")  # the bytes b"id\xff" in argv
    assert "the instance id is not UTF-8 text" in one_line(done, 2)


@pytest.mark.parametrize(
    ("server", "says"),
    [
        ("http://[::1", "XC_SCENARIO_SERVER: not a URL: 'http://[::1': Invalid IPv6 URL"),
        (f"http://{'a' * 64}.example.com", "a part of the host name is longer than 63"),
        (f"http://{'a.' * 130}com", "the host name is longer than 253 characters"),
        ("http://exa mple.com", "not a URL"),
        ("ftp://example.com", "must be an http(s) URL"),
        ("http://user:pa55word@example.com", "no query, fragment, user or password"),
    ],
)
def test_a_server_url_that_cannot_be_reached_by_its_form(server: str, says: str) -> None:
    for command in (["status", "x"], ["run", "img"]):
        done = xc_runner(*command, env={"XC_SCENARIO_SERVER": server, "XC_SCENARIO_APIKEY": KEY})
        said = one_line(done, 2)
        assert says in said, command
        assert "pa55word" not in said


def test_input_json_nested_too_deep(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"arg": ' + "[" * 100_000 + "]" * 100_000 + "}")
    done = xc_runner("exec", "img", "ns/task", "--input-json", str(deep))
    said = one_line(done, 2)
    assert f"--input-json: {deep} is nested deeper than the limit of 64 levels" in said


def test_an_input_that_is_not_text_is_refused_before_anything_starts() -> None:
    from_argv = xc_runner("exec", "img", "ns/task", "arg=\udcff")  # b"arg=\xff" in argv
    assert "input 'arg': not UTF-8 text" in one_line(from_argv, 2)
    from_json = xc_runner("exec", "img", "ns/task", "--input-json", "-", stdin='{"a": "\\ud800"}')
    assert "--input-json: stdin: inputs.a: not valid Unicode text" in one_line(from_json, 2)


def test_a_configuration_file_that_is_not_utf8(tmp_path: Path) -> None:
    config = tmp_path / "runner.toml"
    config.write_bytes(b'[defaults]\nuser = "\xff"\n')
    done = xc_runner("exec", "img", "ns/task", "--config", str(config))
    assert f"{config} is not UTF-8 text" in one_line(done, 2)


@pytest.mark.parametrize("folder", ["/proc/1", "/sys", "/proc/sys"])
def test_new_where_nothing_can_be_created(folder: str) -> None:
    done = xc_runner("new", "python", "my-task", "--dir", folder)
    assert f"cannot create {folder}/my-task" in one_line(done, 2)


def test_an_invalid_image_reference_is_a_bad_command_line_not_an_engine_fault() -> None:
    for argv in (["exec", "Bad:Image:ref", "ns/task"], ["check", "ok:1", "UPPER/case"]):
        done = xc_runner(*argv)
        assert "IMAGE: not an image reference" in one_line(done, 2), argv


def test_output_whose_reader_has_gone(tmp_path: Path) -> None:
    """`xc-runner status ID | head -1`, made certain: the pipe's reader is closed first."""
    port = free_port()
    env = user_environment({"XC_LOCAL_PORT": str(port), "XC_LOCAL_DB": str(tmp_path / "db")})
    server = subprocess.Popen(
        [sys.executable, "-m", "runner", "serve"], cwd=REPO, env=env, stderr=subprocess.PIPE
    )
    try:
        assert server.stderr is not None
        while b"listening" not in server.stderr.readline():
            assert server.poll() is None, "the local server did not start"
        created = xc_runner("submit", "ns", "task", env={"XC_LOCAL_PORT": str(port)})
        assert created.returncode == 0, created.stderr
        read_end, write_end = os.pipe()
        os.close(read_end)
        done = subprocess.run(
            [sys.executable, "-m", "runner", "status", created.stdout.strip()],
            cwd=REPO,
            env=env,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
        os.close(write_end)
    finally:
        server.terminate()
        server.wait(30)
        server.stderr.close()
    assert (done.returncode, done.stderr) == (141, "")


def test_the_net_under_every_command_says_one_line_without_the_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: object) -> int:
        raise ValueError(f"something unexpected with {KEY}")

    monkeypatch.setattr(cli_main.local, "status", broken)
    monkeypatch.setenv("XC_SCENARIO_APIKEY", KEY)
    assert cli_main.main(["status", "x"]) == 70
    said = capsys.readouterr().err
    assert said.startswith("xc-runner: internal error: ValueError at test_cli_mistakes.py:")
    assert len(said.splitlines()) == 1 and KEY not in said

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_main.local, "status", interrupted)
    assert cli_main.main(["status", "x"]) == 130
