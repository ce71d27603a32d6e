"""The command line as a user meets it: a bad command line or a bad setting of any command
is named in one line and exits 2, and never ends in a traceback; options come before or
after the command and its arguments; every help says its defaults and exit codes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from runner import sdk
from runner.cli import parser
from tests.conftest import free_port, xc_runner

RUN_ENV = {"XC_SCENARIO_SERVER": "http://127.0.0.1:9", "XC_SCENARIO_APIKEY": "k3y-5ecret"}


def one_line_exit(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


@pytest.mark.parametrize(
    ("argv", "env", "says"),
    [
        (["serve"], {"XC_LOCAL_PORT": "abc"}, "XC_LOCAL_PORT: not a port number: 'abc'"),
        (["serve", "--port", "70000"], {}, "--port: a port is 0 to 65535, got 70000"),
        (["serve", "--host", "a b"], {}, "--host: not a host name or address: 'a b'"),
        (["serve"], {"XC_SCENARIO_APIKEY": " "}, "XC_SCENARIO_APIKEY: the API key is empty"),
        (["demo"], {"XC_LOCAL_PORT": "-1"}, "XC_LOCAL_PORT: a port is 0 to 65535, got -1"),
        (["status", "x"], {"XC_LOCAL_PORT": "http"}, "XC_LOCAL_PORT: not a port number"),
        (["watch"], {"XC_LOCAL_PORT": "1e3"}, "XC_LOCAL_PORT: not a port number: '1e3'"),
        (["--log-level", "LOUD", "serve"], {}, "--log-level: not a log level: 'LOUD'"),
        (["serve"], {"XC_RUNNER_LOG_LEVEL": "verbose"}, "XC_RUNNER_LOG_LEVEL: not a log level"),
        (["run", "img"], {"XC_RUNNER_CONCURRENCY": "many"}, "not a whole number: 'many'"),
        (["--log-format", "xml", "serve"], {}, "--log-format: not a log format: 'xml'"),
        (["serve"], {"XC_RUNNER_LOG_FORMAT": "yaml"}, "XC_RUNNER_LOG_FORMAT: not a log format"),
        (["run", "img"], {"XC_RUNNER_HTTP_ADDR": "9180"}, "XC_RUNNER_HTTP_ADDR: not HOST:PORT"),
        (["run", "img", "--memory", "0"], RUN_ENV, "--memory: must be 6m to 1t, got '0'"),
        (["run", "img", "--concurrency", "100000"], RUN_ENV, "--concurrency: must be 1 to 256"),
        (["run", "Bad:Image"], RUN_ENV, "IMAGE: not an image reference: 'Bad:Image'"),
        (["submit", "ns", "task", "--timeout-ms", "-5"], {}, "--timeout-ms: must be 1 to"),
        (["exec", "img", "ns/task", "--pids", "0"], {}, "--pids: must be 2 to 4194304"),
    ],
)
def test_a_bad_setting_is_one_clear_line_and_exit_2(
    argv: list[str], env: dict[str, str], says: str
) -> None:
    assert says in one_line_exit(xc_runner(*argv, env=env, timeout_s=60), 2)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["run", "--bogus"], "unrecognized arguments: --bogus"),
        (["exec", "img"], "the following arguments are required: NAMESPACE/TASK"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["completion", "fish"], "invalid choice: 'fish'"),
    ],
)
def test_a_bad_command_line_is_one_line_and_exit_2(argv: list[str], says: str) -> None:
    assert says in one_line_exit(xc_runner(*argv, timeout_s=60), 2)


def test_global_options_come_after_the_command_too() -> None:
    """`run --log-format json` (here with no image, so that it stops at once)."""
    stderr = one_line_exit(xc_runner("run", "--log-format", "json", env=RUN_ENV), 2)
    line = json.loads(stderr)
    assert line["level"] == "ERROR" and "no task image given" in line["message"]
    after = xc_runner("serve", "--port", "x", "--log-level", "ERROR")
    assert "--port: not a port number" in one_line_exit(after, 2)


def test_options_and_arguments_mix_in_any_order() -> None:
    """As the README writes exec's: `exec IMG ns/task --input-json f limit=5`; here a submit
    that gets as far as the (absent) server."""
    port = str(free_port())
    done = xc_runner("submit", "ns", "task", "--port", port, "a=1", "--timeout-ms", "5", "b=2")
    said = one_line_exit(done, 6)
    assert f"no server answers at http://127.0.0.1:{port} (connection refused)" in said


def test_a_boolean_is_a_plain_switch_and_the_old_form_still_reads() -> None:
    args = parser.parser().parse_args(["run", "--remove-previous-tasks", "img"])
    assert (args.remove_previous_tasks, args.images) == ("true", ["img"])
    off = parser.parser().parse_args(["run", "img", "--no-remove-previous-tasks"])
    assert off.remove_previous_tasks == "false"
    switches = ["--remove-previous-tasks"]
    old = ["run", "--remove-previous-tasks", "false", "img"]
    assert parser.old_switch_values(old, switches) == ["run", "--no-remove-previous-tasks", "img"]
    assert parser.old_switch_values(["--remove-previous-tasks=yes", "img"], switches) == [
        "--remove-previous-tasks",
        "img",
    ]
    assert parser.old_switch_values(["--remove-previous-tasks", "img"], switches) == [
        "--remove-previous-tasks",
        "img",
    ]


def commands() -> dict[str, str]:
    """Each command's --help, as printed."""
    top = parser.parser()
    action = next(a for a in top._actions if a.dest == "command")
    assert action.choices is not None
    return {name: sub.format_help() for name, sub in dict(action.choices).items()}


def test_every_help_says_its_exit_codes_and_its_defaults() -> None:
    for name, text in commands().items():
        assert "exit codes:" in text, name
        assert re.search(r"^\s+2  bad command line", text, re.MULTILINE), name
        assert "--log-level" in text and "--log-format" in text, name
    helps = commands()
    assert "(1 to 256; default: 4)" in re.sub(r"\s+", " ", helps["run"])
    assert "(6m to 1t; default: 512m)" in re.sub(r"\s+", " ", helps["exec"])
    assert "(default: 8077)" in re.sub(r"\s+", " ", helps["serve"])
    top = xc_runner("--help")
    assert top.returncode == 0
    for word in ("run", "demo", "serve", "submit", "exec", "check", "new", "completion"):
        assert re.search(rf"^\s+{word}\b", top.stdout, re.MULTILINE), word
    assert "exit codes:" in top.stdout


def test_submit_help_says_what_it_takes_and_where_it_sends() -> None:
    text = re.sub(r"\s+", " ", xc_runner("submit", "--help").stdout)
    for words in (
        "NAMESPACE the task's namespace",
        "TASK the task's name",
        "NAME=VALUE an input of the task",
        "--timeout-ms MS the instance's time limit, in milliseconds",
        "XC_SCENARIO_SERVER",
        "[env XC_SCENARIO_SERVER]",
    ):
        assert words in text, words


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_scripts(shell: str) -> None:
    done = xc_runner("completion", shell)
    assert done.returncode == 0, done.stderr
    assert "--remove-previous-tasks" in done.stdout and "submit" in done.stdout
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed: the script's syntax is not checked")
    checked = subprocess.run(
        [shell, "-n"], input=done.stdout, text=True, capture_output=True, check=False
    )
    assert checked.returncode == 0, checked.stderr


def test_bash_completes_commands_and_options() -> None:
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    script = xc_runner("completion", "bash").stdout
    probe = (
        'COMP_WORDS=(xc-runner ex); COMP_CWORD=1; _shtab_xc_runner; echo "${COMPREPLY[*]}";'
        'COMP_WORDS=(xc-runner run --remove-p); COMP_CWORD=2; _shtab_xc_runner;'
        'echo "${COMPREPLY[*]}"'
    )
    done = subprocess.run(
        ["bash", "-c", f"{script}\n{probe}"], text=True, capture_output=True, check=False
    )
    assert done.stdout.split("\n")[:2] == ["exec", "--remove-previous-tasks"], done


def test_version_names_the_sdks_and_the_protocol() -> None:
    result = xc_runner("--version")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\S+ \(task SDKs \d+\.\d+\.\d+, protocol 1\)\n", result.stdout)


def test_a_runner_without_its_sdks_still_parses_and_says_so_in_its_version(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The runner image once lacked the SDKs, and every command died reading their version.
    def missing() -> str:
        raise FileNotFoundError("VERSION")

    monkeypatch.setattr(sdk, "version", missing)
    top = parser.parser()
    assert top.parse_args(["serve"]).command == "serve"
    with pytest.raises(SystemExit) as exited:
        top.parse_args(["--version"])
    assert exited.value.code == 0
    assert "task SDKs not installed, protocol 1" in capsys.readouterr().out
