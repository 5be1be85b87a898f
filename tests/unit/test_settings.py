"""Settings: defaults, sources and validation that names the field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.settings import Settings, SettingsError, describe_settings, parse_duration


class TestLoad:
    def test_defaults_match_the_marketplace_rules(self) -> None:
        """With no environment and no file, the documented defaults hold (5 late + 3 at risk, 2%)."""
        s = Settings.load(environ={})
        assert s.kafka_bootstrap_servers == "127.0.0.1:9092"
        assert s.store_url == "rocksdb://"
        assert (s.hide_min_late, s.hide_min_late_plus_at_risk) == (5, 8)
        assert s.negativity_threshold == 0.02
        assert s.accept_timeout == timedelta(minutes=15)
        assert s.topic_order_status == "order-status"

    def test_conventional_kafka_variable_is_accepted(self) -> None:
        """KAFKA_BOOTSTRAP_SERVERS configures the broker when MONITOR_ does not."""
        s = Settings.load(environ={"KAFKA_BOOTSTRAP_SERVERS": "10.0.0.1:9092,10.0.0.2:9092"})
        assert s.kafka_bootstrap_servers == "10.0.0.1:9092,10.0.0.2:9092"

    def test_monitor_prefix_wins_over_conventional_name(self) -> None:
        """MONITOR_KAFKA_BOOTSTRAP_SERVERS beats KAFKA_BOOTSTRAP_SERVERS."""
        s = Settings.load(environ={"KAFKA_BOOTSTRAP_SERVERS": "a:1", "MONITOR_KAFKA_BOOTSTRAP_SERVERS": "b:2"})
        assert s.kafka_bootstrap_servers == "b:2"

    def test_environment_beats_file(self, tmp_path: Path) -> None:
        """A TOML file sets values; the environment overrides them; sections flatten to field names."""
        cfg = tmp_path / "monitor.toml"
        cfg.write_text('partitions = 8\nhide_min_late = 4\n[topic]\nalerts = "alerts-x"\n'
                       '[dispatch_lead_by_city]\nKazan = "90m"\n')
        s = Settings.load(environ={"MONITOR_CONFIG": str(cfg), "MONITOR_PARTITIONS": "12"})
        assert s.partitions == 12
        assert s.hide_min_late == 4
        assert s.topic_alerts == "alerts-x"
        assert s.dispatch_lead_for("Kazan") == timedelta(minutes=90)
        assert s.dispatch_lead_for("Moscow") == timedelta(minutes=60)

    def test_city_overrides_from_environment(self) -> None:
        """MONITOR_DISPATCH_LEAD_BY_CITY takes City=duration pairs."""
        s = Settings.load(environ={"MONITOR_DISPATCH_LEAD_BY_CITY": "Moscow=45m, Sochi=2h"})
        assert s.dispatch_lead_by_city == {"Moscow": timedelta(minutes=45), "Sochi": timedelta(hours=2)}


class TestValidation:
    @pytest.mark.parametrize(
        ("env", "field"),
        [
            ({"MONITOR_PARTITIONS": "many"}, "partitions"),  # not an integer
            ({"MONITOR_PARTITIONS": "0"}, "partitions"),  # below the minimum
            ({"MONITOR_STORE_URL": "rocksdict://"}, "store_url"),  # not a faust store URL
            ({"MONITOR_KAFKA_BOOTSTRAP_SERVERS": "localhost"}, "kafka_bootstrap_servers"),  # no port
            ({"MONITOR_ACCEPT_TIMEOUT": "soon"}, "accept_timeout"),  # not a duration
            ({"MONITOR_NEGATIVITY_THRESHOLD": "1.5"}, "negativity_threshold"),  # not a share
            ({"MONITOR_TOPIC_ALERTS": "bad topic"}, "topic_alerts"),  # invalid topic name
            ({"MONITOR_LOG_FORMAT": "xml"}, "log_format"),  # not a choice
            ({"MONITOR_HIDE_MIN_LATE": "9"}, "hide_min_late_plus_at_risk"),  # cross-field: 8 < 9
        ],
    )
    def test_invalid_value_fails_naming_the_field(self, env: dict[str, str], field: str) -> None:
        """Each invalid setting raises SettingsError whose message names the field."""
        with pytest.raises(SettingsError, match=field):
            Settings.load(environ=env)

    def test_rocksdict_url_error_says_what_to_use(self) -> None:
        """The rocksdict:// mistake is explained, pointing to rocksdb://."""
        with pytest.raises(SettingsError, match="use 'rocksdb://'"):
            Settings.load(environ={"MONITOR_STORE_URL": "rocksdict://"})

    def test_unknown_key_in_file_is_rejected(self, tmp_path: Path) -> None:
        """A typo in the config file fails at start instead of being ignored."""
        cfg = tmp_path / "monitor.toml"
        cfg.write_text("hide_min_lat = 4\n")
        with pytest.raises(SettingsError, match="hide_min_lat"):
            Settings.load(environ={"MONITOR_CONFIG": str(cfg)})

    def test_duplicate_topic_names_are_rejected(self) -> None:
        """Two roles on one topic would loop output into input."""
        with pytest.raises(SettingsError, match="topic"):
            Settings.load(environ={"MONITOR_TOPIC_ALERTS": "order-status"})


class TestDurations:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("90", timedelta(seconds=90)),  # bare number = seconds
            ("15m", timedelta(minutes=15)),
            ("24h", timedelta(hours=24)),
            ("30d", timedelta(days=30)),
            ("1.5h", timedelta(minutes=90)),
            ("250ms", timedelta(milliseconds=250)),
        ],
    )
    def test_parse_duration(self, text: str, expected: timedelta) -> None:
        """Durations carry their unit; a bare number is seconds."""
        assert parse_duration(text) == expected

    def test_describe_lists_every_field_with_env_name(self) -> None:
        """The settings table documents every field under its MONITOR_ name."""
        rows = describe_settings()
        names = {r[0] for r in rows}
        assert "MONITOR_KAFKA_BOOTSTRAP_SERVERS" in names
        assert all(r[2] for r in rows)
