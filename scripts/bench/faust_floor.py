"""Faust's own cost per message: the ceiling of any design that hands each input event to a Faust agent.

    .venv/bin/python scripts/bench/faust_floor.py --events 100000

Loads ``--events`` order-status-like JSON messages into a 4-partition topic of a local Kafka (or
KAFKA_BOOTSTRAP_SERVERS), then runs minimal Faust apps over it, each in its own process, and reports messages/s
from the first message to the last:
  one       one agent that only decodes each message (orjson);
  two-topic an agent that decodes and sends each message on with ``Topic.send`` (keyed by store), and a second
            agent that decodes those: the shape of a forwarding agent in front of a store agent;
  two-raw   the same, sending with the producer directly instead of ``Topic.send``.
Writes the rates to ``docs/bench/faust_floor.json``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchenv import bench_broker, run_header, write_result  # noqa: E402

MODES = ("one", "two-topic", "two-raw")


def app_main() -> None:
    """The benchmarked Faust app (run in a subprocess): MODE, N, BOOT, SRC and DATA come from the environment."""
    import faust

    mode, n, tag = os.environ["MODE"], int(os.environ["N"]), uuid.uuid4().hex[:6]  # a fresh app id per run
    app = faust.App(f"floor-{tag}", broker=f"kafka://{os.environ['BOOT']}", store="memory://",
                    topic_partitions=4, consumer_auto_offset_reset="earliest", web_enabled=False,
                    producer_linger=0.005, producer_max_batch_size=256 * 1024, broker_commit_every=1000,
                    broker_commit_interval=1.0, datadir=os.environ["DATA"])
    src = app.topic(os.environ["SRC"], value_serializer="raw", key_serializer="raw")
    mid = app.topic(os.environ["MID"], value_serializer="raw", key_serializer="raw", partitions=4)
    seen = {"n": 0, "t0": 0.0}

    def count() -> None:
        seen["n"] += 1
        if seen["n"] == 1:
            seen["t0"] = time.perf_counter()
        if seen["n"] == n:
            print(f"RESULT {n / (time.perf_counter() - seen['t0']):.0f}", file=sys.stderr, flush=True)
            os._exit(0)

    @app.agent(src)
    async def first(stream):  # type: ignore[no-untyped-def]
        async for event in stream.events():
            value = orjson.loads(event.value)
            if mode == "one":
                count()
            elif mode == "two-topic":
                await mid.send(key=value["store_id"].encode(), value=event.value)
            else:
                await app.producer.send(mid.get_topic_name(), value["store_id"].encode(), event.value,
                                        None, None, None)

    if mode != "one":
        @app.agent(mid)
        async def second(stream):  # type: ignore[no-untyped-def]
            async for event in stream.events():
                orjson.loads(event.value)
                count()

    sys.argv = [sys.argv[0], "worker", "-l", "warn"]
    app.main()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--out", default=str(ROOT / "docs" / "bench" / "faust_floor.json"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qm-floor-"))
    with bench_broker(work) as bootstrap:
        from kafka import KafkaAdminClient, KafkaProducer
        from kafka.admin import NewTopic

        src = f"floor-{uuid.uuid4().hex[:6]}-src"
        KafkaAdminClient(bootstrap_servers=bootstrap).create_topics([NewTopic(src, 4, 1)])
        producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=50, batch_size=1 << 20)
        for i in range(args.events):
            value = {"event_id": f"e{i}", "order_id": f"o{i}", "store_id": f"st-{i % 3000}", "city": "Moscow",
                     "status": "accepted", "promised_at": "2026-02-01T14:00:00+03:00",
                     "occurred_at": "2026-02-01T10:00:00+03:00"}
            producer.send(src, key=f"o{i}".encode(), value=orjson.dumps(value))
        producer.flush()
        producer.close()
        rates = {}
        mids = {mode: f"{src}-{mode}-mid" for mode in MODES}  # created here: faust does not create them in time
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        admin.create_topics([NewTopic(t, 4, 1) for t in mids.values()])
        admin.close()
        for mode in MODES:
            env = {**os.environ, "MODE": mode, "N": str(args.events), "BOOT": bootstrap, "SRC": src,
                   "MID": mids[mode], "DATA": str(work / mode)}
            out = subprocess.run([sys.executable, __file__, "--app"], env=env, capture_output=True, text=True,
                                 timeout=1800)
            found = [line[line.index("RESULT "):] for line in (out.stdout + out.stderr).splitlines()
                     if "RESULT " in line]  # faust may log what the app prints
            if not found:
                raise RuntimeError(f"{mode}: no result\n{out.stderr[-3000:]}")
            rates[mode] = int(found[-1].split()[1])
            print(f"{mode}: {rates[mode]:,} messages/s", file=sys.stderr)
        write_result({**run_header("faust_floor"), "events": args.events, "messages_per_s": rates,
                      "command": f"python scripts/bench/faust_floor.py --events {args.events}"},
                     args.out, bulky="")
    return 0


if __name__ == "__main__":
    if "--app" in sys.argv:
        app_main()
    else:
        sys.exit(main())
