"""Secret redaction: every form of a configured secret, pieces of it, and secret shapes nobody configured."""

from __future__ import annotations

import base64
import io
import json
import logging
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.secrets import FRAGMENT, MASK, excerpt, redact

TOKEN = "7012345678:AAHk9-xQv3ZtLmNoPqRsTuVwXyZ012345_6"
SLACK = "https://hooks.slack.com/services/T0ABCDEF1/B0GHIJKL2/q1w2e3r4t5y6u7i8o9p0a1s2"
HOOK = "https://ops:s3cr3t-pw@hooks.example.com/alerts?key=k3y-v4lue-99&team=ops"
HMAC_KEY = "hmac-signing-key-42"
SECRETS = [TOKEN, SLACK, HOOK, HMAC_KEY]
# what must never be readable, whatever the form: the configured values and the secret parts of the URLs
PIECES = [TOKEN, HMAC_KEY, "q1w2e3r4t5y6u7i8o9p0a1s2", "s3cr3t-pw", "k3y-v4lue-99"]


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


ECHOES = {
    "raw": lambda s: s,
    "url-encoded": lambda s: quote(s, safe=""),
    "path-encoded": lambda s: quote(s, safe="/:"),
    "form-encoded": quote_plus,
    "json": lambda s: json.dumps(s)[1:-1],
    "json escaped slashes": lambda s: json.dumps(s)[1:-1].replace("/", "\\/"),
    "base64": b64,
    "base64 after a prefix": lambda s: b64("user:" + s),
    "base64 url-safe": lambda s: base64.urlsafe_b64encode(("x" + s).encode()).decode(),
    "hex": lambda s: s.encode().hex(),
    "upper case": str.upper,
    "html": lambda s: s.replace("&", "&amp;"),
}


def leaks(text: str) -> list[str]:
    """Pieces (in any of the forms above) of which a FRAGMENT-long run is still in ``text``."""
    found = []
    for piece in PIECES:
        for name, form in ECHOES.items():
            encoded = form(piece)
            core = encoded[4:-4] if "base64" in name else encoded  # the ends depend on the neighbours
            runs = {core[i:i + FRAGMENT] for i in range(len(core) - FRAGMENT + 1)}
            if any(r in text for r in runs):
                found.append(f"{piece} as {name}")
    return found


@pytest.mark.parametrize("form", ECHOES)
@pytest.mark.parametrize("secret", [TOKEN, SLACK, HOOK, HMAC_KEY, "/bot" + TOKEN + "/sendMessage"])
def test_every_form_of_a_configured_secret_is_redacted(secret: str, form: str) -> None:
    """A receiver that echoes the request in any common encoding gets nothing of any secret through."""
    text = f"HTTP 400: bad request for {ECHOES[form](secret)} (echoed)"
    out = redact(text, SECRETS)
    assert MASK in out
    assert not leaks(out), out


@pytest.mark.parametrize(("piece", "why"), [
    ("q1w2e3r4t5y6u7i8o9p0a1s2", "the last segment of a Slack hook path"),
    ("s3cr3t-pw", "the password of a URL"),
    ("k3y-v4lue-99", "a query value of a URL"),
    (TOKEN[5:25], "a fragment of a bot token"),
    (HMAC_KEY[3:], "the end of a webhook's signing key"),
])
def test_pieces_of_secrets_are_redacted(piece: str, why: str) -> None:
    out = redact(f"echo: {piece}!", SECRETS)
    assert piece not in out, why
    assert out.startswith("echo: ") and out.endswith("!")


@pytest.mark.parametrize(("text", "kept", "gone"), [
    ("see https://u:pa55@example.org/x", "https://***@example.org/x", "pa55"),
    ("GET /path?api_key=abc123&x=1 failed", "/path?api_key=***&x=***", "abc123"),
    ("/bot5555555:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh/getMe", "/bot***/getMe", "ABCDEFGHIJ"),
    ("posted to https://hooks.slack.com/services/TAAAA1111/BBBBB2222/zzzzzzzzzzzzzzzz",
     "https://hooks.slack.com/services/***", "zzzzzzzz"),
    ('{"Authorization": "Bearer eyJhbGciOi.payload.sig"}', '{"Authorization": "***"}', "eyJhbGciOi"),
    ("X-Monitor-Signature: sha256=0a1b2c3d4e5f", "X-Monitor-Signature: ***", "0a1b2c3d4e5f"),
])
def test_secret_shapes_nobody_configured_are_redacted(text: str, kept: str, gone: str) -> None:
    """Shapes of secrets are redacted even when they are not ours (another system's token in an echo)."""
    out = redact(text, [])
    assert kept in out and gone not in out, out


def test_the_host_and_ordinary_words_stay_readable() -> None:
    """Redaction must leave an error useful: the host, the status and common words survive."""
    out = redact("webhook ops: HTTP 503: cannot reach hooks.example.com:443, services unavailable", SECRETS)
    assert out == "webhook ops: HTTP 503: cannot reach hooks.example.com:443, services unavailable"


def test_excerpt_redacts_before_it_cuts_and_escapes_control_characters() -> None:
    """A secret across the 300-character cut is still redacted whole; the excerpt is bounded."""
    body = ("x" * 290 + TOKEN + "\x00\n" + "y" * 10_000).encode()
    out = excerpt(body, SECRETS)
    assert len(out) <= 301 and not leaks(out) and TOKEN[:8] not in out
    assert "\\x00" in excerpt(b"a\x00b", []) and "\n" not in excerpt(b"a\nb", [])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=st.text(max_size=200), after=st.text(max_size=200), form=st.sampled_from(list(ECHOES)),
       piece=st.sampled_from(PIECES), cut=st.integers(0, 6))
def test_no_echo_survives_whatever_surrounds_it(before: str, after: str, form: str, piece: str, cut: int) -> None:
    """Whatever text surrounds it, and with up to 6 characters cut off its start, no FRAGMENT-long run of an
    echoed secret survives."""
    out = redact(before + ECHOES[form](piece)[cut:] + after, SECRETS)
    assert not [leak for leak in leaks(out) if leak.split(" as ")[0] not in before + after]


def test_log_lines_are_redacted_once_secrets_are_registered() -> None:
    """Every rendered log line, whatever field or exception carries the secret, is redacted."""
    from monitor import logs

    stream = io.StringIO()
    logs.configure("json", "info")
    handler = logging.getLogger().handlers[0]
    handler.setStream(stream)  # type: ignore[attr-defined]
    logs.hide_secrets(tuple(SECRETS))
    try:
        log = logs.get_logger("test.secrets")
        log.error("send_failed", nested={"url": SLACK, "items": [HOOK]}, token=TOKEN)
        try:
            raise RuntimeError(f"boom {quote(TOKEN, safe='')}")
        except RuntimeError:
            log.exception("crashed")
        logging.getLogger("aiohttp.client").warning("library line %s", b64(HMAC_KEY))
    finally:
        logs.hide_secrets(())
    out = stream.getvalue()
    assert out.count("\n") >= 3 and "send_failed" in out and "library line" in out
    assert not leaks(out), out
