"""The local Apache Kafka broker: it starts, answers, round-trips messages and refuses a busy port."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from kafkautil import consume_until, produce

from monitor.ops import localkafka


class TestLocalBroker:
    def test_message_round_trips(self, kafka_bootstrap: str, unique: str) -> None:
        """A message produced to a new topic is read back with its key and value."""
        topic = f"roundtrip-{unique}"
        produce(kafka_bootstrap, topic, [("k1", {"hello": "kafka"})])
        got = consume_until(kafka_bootstrap, topic, lambda ms: len(ms) >= 1, timeout_s=30)
        assert got[0]["key"] == b"k1"
        assert got[0]["json"] == {"hello": "kafka"}

    def test_broker_answers_metadata(self, kafka_bootstrap: str) -> None:
        """The session broker describes itself as a cluster with one broker on loopback."""
        ok, error = localkafka.answers_metadata(kafka_bootstrap)
        assert ok, error
        assert kafka_bootstrap.startswith("127.0.0.1:")

    def test_busy_port_is_a_clear_error(self, tmp_path: Path) -> None:
        """Starting on a port that is taken fails at once, saying the port is busy."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            with pytest.raises(localkafka.LocalKafkaError, match=f"port {port} on 127.0.0.1 is busy"):
                localkafka.start(tmp_path / "k", port=port)

    def test_status_of_a_folder_without_broker_is_none(self, tmp_path: Path) -> None:
        """status() of a folder where no broker runs is None, and stop() reports nothing stopped."""
        assert localkafka.status(tmp_path) is None
        assert localkafka.stop(tmp_path) is False

    def test_missing_java_is_a_clear_error(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        """Without java on PATH the error says Java is needed and how to get it."""
        monkeypatch.setenv("PATH", str(tmp_path))
        with pytest.raises(localkafka.LocalKafkaError, match="Java is not on PATH"):
            localkafka.start(tmp_path / "k", port=0)
