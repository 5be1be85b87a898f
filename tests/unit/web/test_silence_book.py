"""The worker's in-memory silences: what the topic says, bounded, and hostile records counted, not fatal."""

from __future__ import annotations

import orjson

from monitor.alerts.silences import Silence, SilenceBook


def silence(sid: str, ends_at_ms: int = 2_000, **kw: object) -> Silence:
    return Silence(silence_id=sid, matchers={"kind": ["store_hidden"]}, created_by="anna", comment="c",
                   starts_at_ms=1_000, ends_at_ms=ends_at_ms, **kw)  # type: ignore[arg-type]


def test_the_latest_record_of_a_silence_wins_and_acks_are_not_silences() -> None:
    book = SilenceBook()
    book.read(b"silence:a", orjson.dumps(silence("a").to_dict()))
    book.read(b"silence:a", orjson.dumps(silence("a", expired=True).to_dict()))
    book.read(b"ack:x", orjson.dumps({"type": "ack", "alert_id": "x", "by": "anna", "at_ms": 1}))
    book.read(b"silence:gone", None)  # a tombstone
    assert [(s.silence_id, s.expired) for s in book.all()] == [("a", True)]
    assert book.ignored == 0


def test_hostile_records_are_counted_and_ignored() -> None:
    """Not JSON, not an object, a bad field, a catastrophic-looking regex is fine (RE2), a huge key."""
    book = SilenceBook()
    for value in (b"\xff\xfe", b"[1, 2]", orjson.dumps({"silence_id": "b", "starts_at_ms": "soon"}),
                  orjson.dumps({**silence("c").to_dict(), "matchers": {"city": "~(unclosed"}})):
        book.read(b"k" * 100_000, value)
    book.read(b"silence:d", orjson.dumps({**silence("d").to_dict(), "matchers": {"city": "~(a+)+$"}}))
    assert book.ignored == 4
    assert [s.silence_id for s in book.all()] == ["d"]


def test_the_book_is_bounded_and_forgets_what_ended_longest_ago() -> None:
    book = SilenceBook(limit=3)
    for i, ends in enumerate((5_000, 2_000, 9_000, 7_000)):
        book.put(silence(f"s{i}", ends_at_ms=ends))
    assert sorted(s.silence_id for s in book.all()) == ["s0", "s2", "s3"]
    assert book.forgotten == 1
