"""The dashboard in headless Chromium: it shows a hidden store and its restore button restores it."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import aiohttp
from cdp import Chromium, Page, chromium_path
from kafkautil import consume_until
from webutil import TOKEN

ROOT = Path(__file__).resolve().parents[2]


class TestDashboard:
    def test_page_shows_the_hidden_store_and_restores_it(self, api_env, hidden_store, tmp_path) -> None:
        """The page lists rozy as hidden with why and since when; filling name, note and token and clicking
        Restore puts a manual restore on store-visibility, and the row leaves the hidden list."""
        chromium_path()  # fails (never skips) when Chromium is missing
        url = f"{hidden_store}/dashboard"
        browser = Chromium(tmp_path / "chromium-profile", url, tmp_path / "chromium.log")
        shot = tmp_path / "dashboard.png"
        try:
            asyncio.run(self._drive(browser.devtools_port(), url, shot))
        finally:
            browser.close()
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("UPDATE_DASHBOARD_SCREENSHOT"):
            shutil.copy(shot, ROOT / "docs" / "dashboard.png")
        visibility = consume_until(api_env["MONITOR_KAFKA_BOOTSTRAP_SERVERS"],
                                   api_env["MONITOR_TOPIC_STORE_VISIBILITY"],
                                   lambda ms: any(m["json"]["action"] == "restore" for m in ms))
        restored = [m["json"] for m in visibility if m["json"]["action"] == "restore"][0]
        assert (restored["store_id"], restored["source"], restored["by"], restored["note"]) == (
            "rozy", "manual", "olga", "called the partner")

    @staticmethod
    async def _drive(port: int, url: str, shot: Path) -> None:
        async with aiohttp.ClientSession() as session:
            page = await Page.attach(session, port, url)
            row = '#hidden tr[data-store="rozy"][data-city="Moscow"]'
            await page.wait_for(f"document.querySelector('{row}') !== null")
            cells = await page.evaluate(f"[...document.querySelectorAll('{row} td')].map(td => td.textContent)")
            assert cells[:4] == ["rozy", "Moscow", "HIDE_LATE_AND_AT_RISK", "2026-02-14T12:05:00+00:00"]
            await page.wait_for("document.querySelector('#chart svg [data-city=\"Moscow\"]') !== null")
            assert await page.evaluate("document.querySelector('#ready').textContent") == "yes"
            await page.type_into("#op-by", "olga")
            await page.type_into("#op-note", "called the partner")
            await page.type_into("#op-token", TOKEN)
            await page.screenshot(shot)
            await page.click(f"{row} button.restore")
            status = await page.wait_for("document.querySelector('#status').textContent")
            assert status == "restore of rozy (Moscow) sent", status
            await page.wait_for(f"document.querySelector('{row}') === null")
