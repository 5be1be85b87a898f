"""Exit codes of `monitor`: 0 success, 2 usage error, 1 runtime failure with a one-line reason on stderr."""

from __future__ import annotations

import os
import socket
import subprocess
import sys


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    return subprocess.run([sys.executable, "-m", "monitor.cli", *args], env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=60)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TestExitCodes:
    def test_store_help_lists_show_and_list(self) -> None:
        """`monitor store --help` exits 0 and names restore, show and list."""
        out = run("store", "--help")
        assert out.returncode == 0
        assert all(word in out.stdout for word in ("restore", "show", "list"))

    def test_usage_errors_exit_2(self) -> None:
        """A missing argument or an unknown option is a usage error."""
        assert run("store", "show").returncode == 2
        assert run("store", "list", "--bogus").returncode == 2

    def test_worker_not_reachable_exits_1_with_one_line(self) -> None:
        """No worker behind the URL: exit 1 and one line naming the URL."""
        port = closed_port()
        for args in (("store", "show", "rozy"), ("store", "list", "--hidden")):
            out = run(*args, env={"MONITOR_WEB_PORT": str(port)})
            assert out.returncode == 1
            lines = out.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith(f"monitor: error: worker not reachable at "
                                                           f"http://127.0.0.1:{port}")

    def test_broker_unreachable_exits_1_with_one_line(self) -> None:
        """No broker: `topics create` gives up after its timeout with exit 1 and one line."""
        out = run("topics", "create", "--broker-timeout", "1",
                  env={"MONITOR_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{closed_port()}"})
        assert out.returncode == 1
        assert len(out.stderr.strip().splitlines()) == 1 and out.stderr.startswith("monitor: error:")

    def test_invalid_setting_exits_1_naming_the_field(self) -> None:
        """A bad MONITOR_ variable fails at start with the field's name."""
        out = run("store", "list", env={"MONITOR_WEB_PORT": "many"})
        assert out.returncode == 1 and "web_port" in out.stderr

    def test_bad_urls_and_durations_are_usage_errors_in_one_line(self) -> None:
        """A URL that is not http://host:port, and a silence longer than max_silence, exit 2 with one line and no
        traceback."""
        for args in (("store", "show", "rozy", "--url", "not-a-url"), ("store", "list", "--url", "http://x:99999"),
                     ("silence", "add", "--match", "city=Moscow", "--duration", "99999d", "--by", "a",
                      "--comment", "c")):
            out = run(*args)
            assert out.returncode == 2, (args, out.stderr)
            assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) <= 2, out.stderr
        assert "max_silence" in run("silence", "add", "--match", "city=Moscow", "--duration", "99999d", "--by",
                                    "a", "--comment", "c").stderr

    def test_a_restore_the_worker_cannot_confirm_is_not_sent(self) -> None:
        """With no worker to ask whether the store exists and is hidden, restore fails with exit 1 (``--no-check``
        sends anyway)."""
        out = run("store", "restore", "rozy", "--city", "Moscow", "--by", "anna", "--note", "called",
                  env={"MONITOR_WEB_PORT": str(closed_port())})
        assert out.returncode == 1 and "sent" not in out.stdout and len(out.stderr.strip().splitlines()) == 1
