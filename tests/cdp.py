"""A minimal Chrome DevTools Protocol client over aiohttp's websocket, and a headless Chromium launcher.

Enough to load a page, evaluate JavaScript, click like a user and take a screenshot; no browser download.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         "--window-size=1280,1000", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0"]


def chromium_path() -> str:
    """The Chromium binary; an AssertionError (a failure, never a skip) if it is not installed."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        raise AssertionError(f"Chromium not found at {CHROMIUM}: run `make test` (it installs the Debian package "
                             "chromium) or `apt-get install -y chromium`")
    return CHROMIUM


class Chromium:
    """A headless Chromium process with its own profile, stopped by ``close()``."""

    def __init__(self, profile: Path, url: str, log_path: Path) -> None:
        self.profile = profile
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen([chromium_path(), *FLAGS, f"--user-data-dir={profile}", url],
                                     stdout=self._log, stderr=subprocess.STDOUT)

    def devtools_port(self, timeout_s: float = 30.0) -> int:
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if marker.exists() and marker.read_text().strip():
                return int(marker.read_text().splitlines()[0])
            if self.proc.poll() is not None:
                raise AssertionError(f"chromium exited with {self.proc.returncode}")
            time.sleep(0.1)  # the polling interval of this wait
        raise AssertionError("chromium did not open its DevTools port")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class Page:
    """One page target driven over CDP."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)

    @classmethod
    async def attach(cls, session: aiohttp.ClientSession, port: int, url_prefix: str) -> Page:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            async with session.get(f"http://127.0.0.1:{port}/json/list") as resp:
                targets = await resp.json(content_type=None)
            pages = [t for t in targets if t.get("type") == "page" and t.get("url", "").startswith(url_prefix)]
            if pages:
                return cls(await session.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0))
            await asyncio.sleep(0.2)  # the polling interval of this wait
        raise AssertionError(f"no page at {url_prefix}")

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self._ids)
        await self.ws.send_str(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads((await self.ws.receive(timeout=30)).data)
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                return msg["result"]

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout_s: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout_s
        value = None
        while time.monotonic() < deadline:
            value = await self.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(0.2)  # the polling interval of this wait
        raise AssertionError(f"not true within {timeout_s}s: {expression} (last {value!r})")

    async def click(self, selector: str) -> None:
        """Press and release the mouse in the middle of the element, as a person would."""
        box = await self.evaluate(f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                                  ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            await self.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    async def type_into(self, selector: str, text: str) -> None:
        await self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        await self.send("Input.insertText", text=text)

    async def screenshot(self, path: Path) -> None:
        result = await self.send("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(result["data"]))
