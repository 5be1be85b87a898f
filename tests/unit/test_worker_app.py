"""The worker's Faust app is built from the Settings it is given (monitor/worker/app.py), never from others."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter: the app is a per-process singleton, so each case needs its own process."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "MONITOR_APP_ID": "from-environment"})


def test_importing_the_module_builds_nothing_and_install_binds_tables_to_the_given_settings() -> None:
    result = _run("""
        import monitor.worker.app as appmod
        from monitor.settings import Settings
        assert appmod._installed is None, "importing the module built an app"
        given = Settings.load({"MONITOR_APP_ID": "given-app", "MONITOR_PARTITIONS": "3"}, config_file=None)
        app = appmod.install(given)
        import monitor.worker.tables.stores  # binds its tables to the installed app
        from monitor.worker.app import settings
        assert settings is given
        assert app.conf.id == "given-app", app.conf.id
        assert app.conf.topic_partitions == 3
        assert all(t.app is app for t in app.tables.values()) and app.tables
        assert appmod.install(Settings.load({"MONITOR_APP_ID": "given-app", "MONITOR_PARTITIONS": "3"},
                                            config_file=None)) is app  # equal settings: the same app
        try:
            appmod.install(Settings.load({"MONITOR_APP_ID": "another-app"}, config_file=None))
        except RuntimeError as exc:
            print("refused:", exc)
        else:
            raise SystemExit("a second app from other settings was accepted")
    """)
    assert result.returncode == 0, result.stderr
    assert "refused: the worker app was already built from other settings" in result.stdout


def test_without_install_the_first_use_loads_the_environment() -> None:
    result = _run("""
        from monitor.worker.app import app, settings
        print(settings.app_id, app.conf.id)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["from-environment", "from-environment"]
