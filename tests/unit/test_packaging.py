"""Packaging: docker-compose agrees with the settings, the CLI lists its commands, .ci/run runs the README's test command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from monitor.cli import build_parser, main
from monitor.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


class TestDockerCompose:
    def test_services_and_environment_agree_with_settings(self) -> None:
        """Compose runs kafka + monitor; every MONITOR_ variable is a valid setting; the broker matches."""
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        assert set(compose["services"]) == {"kafka", "monitor"}
        kafka = compose["services"]["kafka"]
        assert kafka["image"].startswith("apache/kafka:")
        assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
        env = compose["services"]["monitor"]["environment"]
        settings = Settings.load(environ=env)  # raises if any value is invalid
        known = {"MONITOR_" + name.upper() for name in Settings.__dataclass_fields__}
        assert set(env) <= known, set(env) - known
        host, port = settings.kafka_bootstrap_servers.split(":")
        assert host == kafka["hostname"]
        assert f"INTERNAL://{host}:{port}" in kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"]
        assert settings.store_url == "rocksdb://"
        assert f"{settings.web_port}:{settings.web_port}" in compose["services"]["monitor"]["ports"]

    def test_image_versions_match_the_local_broker(self) -> None:
        """The compose Kafka image runs the same version as `monitor kafka start`."""
        from monitor.ops.localkafka import KAFKA_VERSION

        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        assert compose["services"]["kafka"]["image"] == f"apache/kafka:{KAFKA_VERSION}"
        assert f"<kafka.version>{KAFKA_VERSION}</kafka.version>" in (ROOT / "scripts/kafka/pom.xml").read_text()


class TestCli:
    def test_help_lists_the_subcommands(self) -> None:
        """`monitor --help` names every top-level command."""
        out = subprocess.run([sys.executable, "-m", "monitor.cli", "--help"], capture_output=True, text=True)
        assert out.returncode == 0
        for command in ("kafka", "worker", "demo", "topics", "schemas"):
            assert command in out.stdout

    def test_usage_error_exits_2(self) -> None:
        """An unknown command is a usage error (exit 2)."""
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args(["frobnicate"])
        assert exc.value.code == 2

    def test_schemas_check_passes_on_committed_files(self) -> None:
        """`monitor schemas export --check` agrees with the committed schemas."""
        assert main(["schemas", "export", "--check"]) == 0

    def test_ci_runs_the_readme_test_command(self) -> None:
        """.ci/run calls the test command the README documents."""
        readme = (ROOT / "README.md").read_text()
        ci = (ROOT / ".ci" / "run").read_text()
        assert "make test" in readme and "make test" in ci


class TestReadme:
    def test_every_setting_is_documented(self) -> None:
        """The settings table in docs/configuration.md lists every MONITOR_ variable."""
        from monitor.settings import describe_settings

        readme = (ROOT / "docs" / "configuration.md").read_text()
        missing = [name for name, _, _ in describe_settings() if f"`{name}`" not in readme]
        assert not missing


class TestLocalKafkaClusterId:
    def test_cluster_ids_never_start_with_a_dash(self) -> None:
        """kafka-storage reads '-t -abc' as an option: one id in 64 would fail to format, so none may start so."""
        from monitor.ops.localkafka import _cluster_id

        ids = [_cluster_id() for _ in range(3000)]
        assert not any(i.startswith("-") for i in ids)
        assert len(set(ids)) == 3000 and all(len(i) == 22 for i in ids)
