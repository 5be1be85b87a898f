"""Receivers that echo the request back in their errors, for every channel, against the real dispatcher: the
dispatcher's log and its dead letters hold no secret in any form (issue 14: secrets never leave)."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from conftest import free_port
from kafkautil import consume_until, produce

TOKEN = "7012345678:AAHk9-xQv3ZtLmNoPqRsTuVwXyZ012345_6"
SLACK_PATH = "/services/T0ABCDEF1/B0GHIJKL2/q1w2e3r4t5y6u7i8o9p0a1s2"
HOOK_PASSWORD, HOOK_KEY, HMAC_KEY = "s3cr3t-pw-77", "k3y-v4lue-99", "hmac-signing-key-42"
SMTP_PASSWORD = "smtp-pa55word-31"
# what must not be readable anywhere: each configured secret, and the secret parts of the URLs
PIECES = [TOKEN, "q1w2e3r4t5y6u7i8o9p0a1s2", HOOK_PASSWORD, HOOK_KEY, HMAC_KEY, SMTP_PASSWORD]
FRAGMENT = 8


def forms(piece: str) -> list[str]:
    """The piece as an echo may carry it: raw, URL-, JSON- and hex-encoded, and base64 behind a prefix."""
    b64 = [base64.b64encode((p + piece).encode()).decode()[4:-4] for p in ("", "u:", "\0u\0")]
    return [piece, quote(piece, safe=""), json.dumps(piece)[1:-1].replace("/", "\\/"), piece.encode().hex(), *b64]


def leaks(text: str) -> list[str]:
    return [f"{piece!r} as {form!r}" for piece in PIECES for form in forms(piece)
            if any(form[i:i + FRAGMENT] in text for i in range(len(form) - FRAGMENT + 1))]


class EchoServer:
    """An HTTP receiver on 127.0.0.1 that answers every POST with 400 and the request echoed back in several
    encodings: path and query raw, URL-encoded, in JSON with escaped slashes, base64; and every header."""

    def __init__(self) -> None:
        self.port = free_port()
        self.paths: list[str] = []
        ready = threading.Event()

        async def echo(request: web.Request) -> web.Response:
            self.paths.append(request.path_qs)
            seen = {"path": request.path_qs, "url": str(request.url), "headers": dict(request.headers),
                    "body": (await request.read()).decode()[:200]}
            text = (f"no such hook {request.path_qs}; encoded {quote(request.path_qs, safe='')}; "
                    f"b64 {base64.b64encode(request.path_qs.encode()).decode()}; "
                    + json.dumps(seen).replace("/", "\\/"))
            return web.Response(status=400, text=text)

        async def main() -> None:
            app = web.Application()
            app.router.add_post("/{tail:.*}", echo)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            ready.set()
            await asyncio.Event().wait()  # serve until the test process ends

        threading.Thread(target=lambda: asyncio.run(main()), daemon=True).start()
        assert ready.wait(10)


def _echo_credentials(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    """An SMTP server that refuses the login and quotes it back, raw and in base64."""
    login, password = auth_data.login.decode(), auth_data.password.decode()
    b64 = base64.b64encode(f"\0{login}\0{password}".encode()).decode()
    return AuthResult(success=False, handled=False,
                      message=f"535 5.7.8 refused {login}:{password} ({b64})")


CONFIG = f"""
retry_attempts = 2
retry_base_ms = 50
default_receivers = ["telegram", "slack", "hook", "mail"]

[receivers.telegram]
type = "telegram"
bot_token = "{TOKEN}"
chat_id = "-100"
api_base = "http://127.0.0.1:{{port}}"

[receivers.slack]
type = "slack"
webhook_url = "http://127.0.0.1:{{port}}{SLACK_PATH}"

[receivers.hook]
type = "webhook"
url = "http://ops:{HOOK_PASSWORD}@127.0.0.1:{{port}}/alerts?key={HOOK_KEY}&team=ops"
secret = "{HMAC_KEY}"

[receivers.mail]
type = "email"
host = "127.0.0.1"
port = {{smtp_port}}
starttls = false
username = "monitor-mailer"
password = "{SMTP_PASSWORD}"
from_addr = "monitor@example.com"
to_addrs = ["oncall@example.com"]
"""


@pytest.fixture
def smtp_echo():
    port = free_port()
    controller = Controller(object(), hostname="127.0.0.1", port=port, authenticator=_echo_credentials,
                            auth_require_tls=False)
    controller.start()
    yield port
    controller.stop()


def test_echoing_receivers_leak_no_secret_into_logs_or_dead_letters(monitor_env, tmp_path: Path,
                                                                    smtp_echo: int) -> None:
    """Each of the four channels fails with its request echoed back; each failure is one dead letter whose
    error keeps the status and a redacted excerpt, and neither the log nor the dead letters hold any secret
    (raw, URL-encoded, JSON-escaped, hex or base64 at any alignment, or an 8-character piece of one)."""
    echo = EchoServer()
    cfg = tmp_path / "dispatch.toml"
    cfg.write_text(CONFIG.format(port=echo.port, smtp_port=smtp_echo))
    env = {**monitor_env, "MONITOR_DISPATCH_CONFIG": str(cfg),
           "MONITOR_TOPIC_SILENCES": f"silences-{monitor_env['MONITOR_APP_ID']}"}
    boot = env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"]
    log_path = tmp_path / "dispatcher.log"
    with open(log_path, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "dispatcher"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            produce(boot, env["MONITOR_TOPIC_ALERTS"], [("store_hidden:Moscow:s-1:1", {
                "alert_id": "store_hidden:Moscow:s-1:1", "kind": "store_hidden", "severity": "critical",
                "status": "firing", "store_id": "s-1", "city": "Moscow", "summary": "Store s-1 hidden",
                "details": {"late": 5, "at_risk": 3}, "at": "2026-02-14T12:00:00+00:00"})])
            letters = consume_until(boot, env["MONITOR_TOPIC_DEAD_LETTERS"], lambda ms: len(ms) >= 4,
                                    timeout_s=90)
        finally:
            proc.terminate()
            assert proc.wait(30) == 0
    assert len(echo.paths) == 3  # telegram, slack and the webhook (400 is permanent): the echo was served
    errors = {m["json"]["error"].split(":")[0]: m["json"]["error"] for m in letters}
    assert set(errors) == {"receiver telegram", "receiver slack", "receiver hook", "receiver mail"}, errors
    for name in ("telegram", "slack", "hook"):
        assert "HTTP 400: no such hook" in errors[f"receiver {name}"] and "***" in errors[f"receiver {name}"]
    assert "535" in errors["receiver mail"] and "refused ***" in errors["receiver mail"], errors["receiver mail"]
    log = log_path.read_text()
    assert "notification_failed" in log
    assert not leaks(log), leaks(log)
    raw_letters = b"".join(m["value"] for m in letters).decode()
    assert not leaks(raw_letters), leaks(raw_letters)

