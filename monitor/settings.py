"""One typed, validated settings object, read once at start-up from a TOML file and the environment."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from monitor.setting_values import (
    SettingsError,
    bootstrap_servers,
    choice,
    city_durations,
    flag,
    float_in,
    format_duration,
    int_in,
    parse_duration,
    setting,
    store_url,
    text,
    topic_name,
)

__all__ = ["Settings", "SettingsError", "parse_duration", "describe_settings"]

ENV_PREFIX = "MONITOR_"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the monitor can be told. Environment ``MONITOR_<FIELD>`` beats the file beats the default."""

    # --- Kafka and the Faust app ---
    kafka_bootstrap_servers: str = setting(
        "127.0.0.1:9092", "Kafka bootstrap servers, host:port[,host:port]", bootstrap_servers,
        env=("KAFKA_BOOTSTRAP_SERVERS",),
    )
    app_id: str = setting("quality-monitor", "Faust app id: consumer groups (<app_id>, <app_id>-ingest) and "
                          "prefix of internal topics", text)
    partitions: int = setting(4, "partitions of input, repartition and table topics (co-partitioned)", int_in(1, 512))
    replication_factor: int = setting(1, "replication factor of topics the monitor creates", int_in(1, 7))
    store_url: str = setting("rocksdb://", "Faust table store (rocksdb:// uses rocksdict when installed)", store_url)
    data_dir: Path = setting(Path("var"), "directory for RocksDB state and local files", lambda v: Path(str(v)))
    rocksdb_write_buffer_mb: int = setting(
        8, "RocksDB write buffer of each table partition in MiB, at most two in memory (faust's default: 64 x 3)",
        int_in(1, 1024))
    rocksdb_block_cache_mb: int = setting(
        16, "RocksDB block cache of each table partition in MiB (faust's default: 2 GiB)", int_in(1, 4096))
    web_host: str = setting("127.0.0.1", "address the worker's web server binds to", text)
    web_port: int = setting(6066, "port of the worker's web server", int_in(1, 65535))
    web_enabled: bool = setting(True, "run the worker's web server", flag)
    api_token: str = setting("", "bearer token the HTTP API's mutating endpoints require (empty: they are "
                             "refused)", lambda v: str(v).strip())
    log_format: str = setting("auto", "auto (console on a terminal, JSON otherwise), json or console",
                              choice("auto", "json", "console"))
    log_level: str = setting("info", "debug, info, warning or error", choice("debug", "info", "warning", "error"))
    clock_tick: timedelta = setting(parse_duration("1s"), "how often heartbeats advance the clock without events",
                                    parse_duration)
    state_flush_interval: timedelta = setting(
        parse_duration("1s"), "the store agent writes changed store states to RocksDB and the changelog at most "
        "this often, and commits the events behind them only then (0s: after every event)", parse_duration)
    source_skew: timedelta = setting(
        parse_duration("1h"), "ingest reads an input partition at most this far in event time ahead of the slowest "
        "partition of its topic that still has records to read (event-time alignment; 0s: no limit)",
        parse_duration)
    live_delay: timedelta = setting(parse_duration("2s"), "in live operation the clock trails the wall clock "
                                    "by this much (room for in-flight events)", parse_duration)
    live_horizon: timedelta = setting(parse_duration("1h"), "a stream whose clock is within this of the wall "
                                      "clock is live; older streams (replays) advance by events only",
                                      parse_duration)
    session_timeout: timedelta = setting(parse_duration("60s"), "a worker silent this long (crashed) loses its "
                                         "partitions to the others; a restarted one waits for it too", parse_duration)
    max_future_skew: timedelta = setting(
        parse_duration("5m"), "an input whose event time (occurred_at, created_at) is more than this ahead of the "
        "wall clock when ingest reads it is dead-lettered (FUTURE_EVENT_TIME); no clock ever runs further ahead",
        parse_duration)
    max_promise_horizon: timedelta = setting(
        parse_duration("30d"), "an order event whose promised_at is more than this after its occurred_at is "
        "dead-lettered (PROMISE_TOO_FAR)", parse_duration)
    dead_letter_excerpt_bytes: int = setting(
        65_536, "a dead letter keeps at most this many bytes of the original value, with its size and SHA-256 "
        "(bounded, so one huge message cannot make a dead letter the broker refuses)", int_in(256, 262_144))
    max_value_bytes: int = setting(1_048_576, "an input value larger than this many bytes is dead-lettered "
                                   "unread", int_in(1))

    # --- topics ---
    topic_order_status: str = setting("order-status", "input: order status changes, key order_id", topic_name)
    topic_reviews: str = setting("reviews", "input: customer reviews, key review_id", topic_name)
    topic_store_commands: str = setting("store-commands", "input: restore / acknowledge commands, key store_id",
                                        topic_name)
    topic_store_visibility: str = setting("store-visibility", "output: hide / restore events, key store_id",
                                          topic_name)
    topic_alerts: str = setting("alerts", "output: alerts, key alert_id", topic_name)
    topic_dead_letters: str = setting("dead-letters", "output: messages that could not be processed", topic_name)
    topic_silences: str = setting("alert-silences", "compacted: silences and acknowledgements shared by "
                                  "all dispatchers", topic_name)
    dispatch_config: str = setting("", "TOML file with receivers and routes (empty: log everything)",
                                   lambda v: str(v).strip())

    max_silence: timedelta = setting(parse_duration("30d"), "the longest a silence may last (a longer one is refused: "
                                     "a forgotten silence hides alerts for good)", parse_duration)

    # --- orders: late, at risk, hiding (issue: late and at-risk orders) ---
    accept_timeout: timedelta = setting(parse_duration("15m"), "an order not accepted this long after creation "
                                        "is at risk (the partner has disappeared)", parse_duration)
    dispatch_lead: timedelta = setting(parse_duration("60m"), "an order not in delivery this close to "
                                       "promised_at is at risk", parse_duration)
    dispatch_lead_by_city: Mapping[str, timedelta] = setting({}, "per-city override of dispatch_lead",
                                                             city_durations)
    late_window: timedelta = setting(parse_duration("24h"), "rolling window of late orders, by promised_at",
                                     parse_duration)
    hide_min_late: int = setting(5, "hide a store with at least this many late orders...", int_in(1))
    hide_min_late_plus_at_risk: int = setting(8, "...and at least this many late + at-risk orders", int_in(1))
    order_retention: timedelta = setting(parse_duration("3d"), "finished orders are forgotten this long after "
                                         "their deadline", parse_duration)
    max_orders_per_store: int = setting(
        3_000, "a store holds at most this many orders (open, and finished ones until forgotten); a new order "
        "beyond it is dead-lettered STORE_FULL (a store's state must fit one Kafka message: 120 bytes an order, "
        "300 with the longest ids)", int_in(100, 3_000))
    auto_restore_after: timedelta = setting(parse_duration("0s"), "restore a hidden store after this quiet "
                                            "period; 0 = never (manual restore only)", parse_duration)

    # --- reviews: negativity (issue: review negativity) ---
    negative_max_rating: int = setting(2, "a review with rating <= this is negative", int_in(1, 5))
    negativity_window: timedelta = setting(parse_duration("30d"), "rolling window of the negativity share",
                                           parse_duration)
    max_reviews_per_store: int = setting(
        4_000, "a store holds at most this many reviews in its window; a new review beyond it is dead-lettered "
        "STORE_FULL (a store's state must fit one Kafka message: 40 bytes a review, 220 with the longest ids)",
        int_in(100, 4_000))
    negativity_threshold: float = setting(0.02, "share of negative reviews above which an alert fires",
                                          float_in(0.0, 1.0, open_hi=True))
    negativity_method: str = setting("simple", "simple (share + min counts) or wilson (lower bound)",
                                     choice("simple", "wilson"))
    negativity_confidence: float = setting(0.95, "confidence of the Wilson lower bound",
                                           float_in(0.5, 1.0, open_hi=True))
    negativity_resolve_margin: float = setting(0.005, "a firing alert resolves at once when the share is "
                                               "this far below the threshold (hysteresis)", float_in(0.0, 1.0))
    negativity_min_firing: timedelta = setting(parse_duration("6h"), "...or when it is back at the threshold "
                                               "after firing this long", parse_duration)
    min_reviews: int = setting(20, "reviews needed in the window before a store alert can fire", int_in(1))
    min_negative: int = setting(2, "negative reviews needed in the window before an alert can fire", int_in(1))
    city_min_reviews: int = setting(50, "reviews needed in the window before a city alert can fire", int_in(1))
    city_lateness_window: timedelta = setting(parse_duration("3h"), "window of deliveries for the city courier "
                                              "lateness alert", parse_duration)
    city_lateness_share: float = setting(0.2, "share of deliveries handed over in time but late that fires "
                                         "city_lateness (resolves below half of it)", float_in(0.0, 1.0, open_lo=True))
    city_lateness_min_late: int = setting(10, "courier-late deliveries in the window before city_lateness can "
                                          "fire", int_in(1))
    repeat_count: int = setting(3, "negativity incidents that make a store a repeat offender", int_in(2))
    repeat_window: timedelta = setting(parse_duration("90d"), "window for counting repeat incidents",
                                       parse_duration)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, config_file: str | Path | None = None) -> Settings:
        """Read the TOML file (``MONITOR_CONFIG`` or ``config_file``) and the environment; validate every field."""
        environ = os.environ if environ is None else environ
        path = config_file or environ.get(ENV_PREFIX + "CONFIG")
        raw: dict[str, tuple[Any, str]] = {}
        if path:
            try:
                with open(path, "rb") as fh:
                    doc = tomllib.load(fh)
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise SettingsError(f"cannot read config file {path}: {exc}") from None
            known = {f.name for f in dataclasses.fields(cls)}
            for key, value in _flatten(doc).items():
                if key not in known:
                    raise SettingsError(f"{path}: unknown setting {key!r}")
                raw[key] = (value, f"{path}:{key}")
        for f in dataclasses.fields(cls):
            for name in (ENV_PREFIX + f.name.upper(), *f.metadata["env"]):
                if name in environ:
                    raw[f.name] = (environ[name], name)
                    break
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name in raw:
                value, source = raw[f.name]
                try:
                    values[f.name] = f.metadata["parse"](value)
                except ValueError as exc:
                    raise SettingsError(f"invalid setting {f.name} (from {source}): {exc}") from None
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Cross-field rules that no single field can check."""
        if self.hide_min_late_plus_at_risk < self.hide_min_late:
            raise SettingsError("invalid setting hide_min_late_plus_at_risk: must be >= hide_min_late")
        if self.min_negative > self.min_reviews:
            raise SettingsError("invalid setting min_negative: must be <= min_reviews")
        if self.late_window <= timedelta(0) or self.negativity_window <= timedelta(0):
            raise SettingsError("invalid setting late_window/negativity_window: must be positive")
        if self.max_promise_horizon <= timedelta(0):
            raise SettingsError("invalid setting max_promise_horizon: must be positive")
        if not 6 <= self.session_timeout.total_seconds() <= 300:
            raise SettingsError("invalid setting session_timeout: must be between 6s and 300s (Kafka's group limits)")
        topics = [self.topic_order_status, self.topic_reviews, self.topic_store_commands,
                  self.topic_store_visibility, self.topic_alerts, self.topic_dead_letters, self.topic_silences]
        if len(set(topics)) != len(topics):
            raise SettingsError("invalid setting topic_*: two topics share one name")

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (and validated again)."""
        new = dataclasses.replace(self, **changes)
        new.check()
        return new

    def dispatch_lead_for(self, city: str) -> timedelta:
        """The dispatch lead time of a city: its override, else the default."""
        return self.dispatch_lead_by_city.get(city, self.dispatch_lead)

    @property
    def table_dir(self) -> Path:
        return self.data_dir / "tables"

    def rocksdb_options(self) -> dict[str, int]:
        """Options for every table's RocksDB (a new dict each call: faust keeps and mutates the one it gets).

        Memory is per table partition (4 tables x ``partitions``), so faust's defaults, sized for one big table,
        let a worker's RSS grow to gigabytes as write buffers fill; these keep it bounded and small."""
        mib = 1024 * 1024
        return {"write_buffer_size": self.rocksdb_write_buffer_mb * mib, "max_write_buffer_number": 2,
                "block_cache_size": self.rocksdb_block_cache_mb * mib}


def _flatten(doc: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``[topic] alerts = "x"`` becomes ``topic_alerts``; ``dispatch_lead_by_city`` stays a table."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and name != "dispatch_lead_by_city":
            out.update(_flatten(value, name + "_"))
        else:
            out[name] = value
    return out


def describe_settings() -> list[tuple[str, str, str]]:
    """(environment name, default, doc) for every field: the settings table in docs/configuration.md."""
    rows = []
    for f in dataclasses.fields(Settings):
        factory: Any = f.default_factory
        default = f.default if f.default is not dataclasses.MISSING else factory()
        if isinstance(default, timedelta):
            default = format_duration(default)
        rows.append((ENV_PREFIX + f.name.upper(), str(default) if default != {} else "{}", f.metadata["doc"]))
    return rows
