"""Secret redaction for everything that leaves the process: errors, dead letters and log lines.

A receiver's answer is hostile text: a server that echoes the request can return a configured secret in any
form (the raw token, its URL-encoded path, a JSON string with escaped slashes, the base64 of a Basic
``user:password``, hex) or only a piece of it. So a :class:`Redactor` knows, for every configured secret, the
parts of it that are secret on their own (a URL's path, query values and password) in every encoding a server
is likely to use, and redacts every run of at least ``FRAGMENT`` characters that any of them contains. Secrets
nobody configured but that have a recognisable shape (bot tokens, Slack hook paths, ``user:password@`` in URLs,
query strings, authorization headers) are redacted by pattern.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

__all__ = ["Redactor", "redactor", "redact", "excerpt", "FRAGMENT", "MASK"]

MASK = "***"
FRAGMENT = 8  # a shared run of this many characters with a secret form is redacted
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_DIGIT = re.compile(r"\d")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# shapes of secrets whether configured or not; each keeps its harmless prefix (group 1) and masks the rest
_PATTERNS = [
    re.compile(r"(?i)\b([a-z][a-z0-9+.-]{0,20}://)[^\s/@:\"'<>]{1,256}:[^\s/@\"'<>]{1,256}(?=@)"),  # user:password@
    re.compile(r"([?&][^\s=&#\"'<>?]{1,128}=)[^\s&#\"'<>]{1,4096}"),  # query string values
    re.compile(r"(?:(?<=bot)|\b)\d{5,15}:[A-Za-z0-9_-]{30,64}\b"),  # Telegram bot tokens, also in /bot<token>/
    re.compile(r"(hooks\.slack\.com/(?:services|workflows|triggers)/)[^\s\"'<>]{1,512}"),
    re.compile(r"\bT[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{8,64}\b"),  # a Slack hook path alone
    re.compile(r"(?i)\b((?:proxy-)?authorization|x-api-key|api[_-]?key|access[_-]?token|auth[_-]?token|token|"
               r"secret|password|passwd|signature|cookie)([\"']?\s{0,8}[:=]\s{0,8}[\"']?)"
               r"(?:(?:bearer|basic|token|digest)\s{1,8})?[^\s\"',;&<>]{1,4096}"),
]


def _mask_pattern(m: re.Match[str]) -> str:
    return "".join(g for g in m.groups() if g) + MASK


def _url_parts(url: str) -> tuple[set[str], set[str]]:
    """The secret parts of a URL: (matched whole: the URL, its path and query; matched by fragment: its
    password, query values and long or numeric path segments). The host is not secret."""
    try:
        u = urlsplit(url)
        password = u.password
    except ValueError:
        return {url}, set()
    whole = {p for p in (url, u.query, u.fragment) if p}
    if u.path.strip("/"):
        whole.add(u.path)
    pieces = {seg for seg in u.path.split("/") if len(seg) >= 16 or (len(seg) >= 6 and _DIGIT.search(seg))}
    pieces |= {v for _, v in parse_qsl(u.query) if len(v) >= 4}
    if password:
        pieces.add(password)
    return whole, pieces


def _base64_cores(raw: bytes) -> set[str]:
    """Base64 of ``raw`` as it reads inside a longer encoded string, at each of the three byte alignments."""
    cores = set()
    for k in range(3):
        encoded = base64.b64encode(b"\0" * k + raw).decode()
        start, end = (k + 2) // 3, (k + len(raw)) // 3
        core = encoded[4 * start:4 * end]
        cores |= {core, core.replace("+", "-").replace("/", "_")}
    return {c for c in cores if c}


def _encodings(part: str) -> set[str]:
    raw = part.encode()
    forms = {part, quote(part, safe=""), quote(part, safe="/:"), quote_plus(part), html.escape(part),
             raw.hex(), json.dumps(part)[1:-1], json.dumps(part, ensure_ascii=False)[1:-1]}
    forms |= {f.replace("/", "\\/") for f in list(forms)}
    forms |= _base64_cores(raw)
    return {f for f in forms if f}


def _holds_secret(run: str, raw: tuple[bytes, ...]) -> bool:
    padded = run.rstrip("=") + "=" * (-len(run.rstrip("=")) % 4)
    for alt in (padded, padded.replace("-", "+").replace("_", "/")):
        try:
            decoded = base64.b64decode(alt)
        except ValueError:
            continue
        if any(r in decoded for r in raw):
            return True
    return False


class Redactor:
    """Redacts the given secrets (and recognisable secret shapes) from any text."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        whole: set[str] = set()
        pieces: set[str] = set()
        for s in secrets:
            if s and "://" in s:
                w, p = _url_parts(s)
                whole |= w
                pieces |= p
            elif s:
                pieces.add(s)
        self._raw = tuple(p.encode() for p in pieces if len(p) >= 4)
        forms = {f.translate(_ASCII_LOWER) for p in pieces for f in _encodings(p)}
        whole_forms = {f.translate(_ASCII_LOWER) for p in whole for f in _encodings(p) if len(f) >= FRAGMENT}
        self._whole = sorted(whole_forms | {f for f in forms if len(f) < FRAGMENT}, key=len, reverse=True)
        self._windows = {f[i:i + FRAGMENT] for f in forms if len(f) >= FRAGMENT
                         for i in range(len(f) - FRAGMENT + 1)}

    def redact(self, text: str) -> str:
        """``text`` with every run that shares ``FRAGMENT`` characters with a secret form, every short secret
        form and every recognisable secret shape replaced by ``***``."""
        for pattern in _PATTERNS:
            text = pattern.sub(_mask_pattern, text)
        return self._known(text) if self._whole or self._windows else text

    def _known(self, text: str) -> str:
        low = text.translate(_ASCII_LOWER)  # length-preserving, so positions match
        marked = bytearray(len(text))
        for i in range(len(low) - FRAGMENT + 1):
            if low[i:i + FRAGMENT] in self._windows:
                marked[i:i + FRAGMENT] = b"\1" * FRAGMENT
        for form in self._whole:
            start = low.find(form)
            while start != -1:
                marked[start:start + len(form)] = b"\1" * len(form)
                start = low.find(form, start + 1)
        for m in _BASE64_RUN.finditer(text):  # a secret inside a base64 blob at any alignment (Basic auth)
            if self._raw and _holds_secret(m.group(), self._raw):
                marked[m.start():m.end()] = b"\1" * (m.end() - m.start())
        if not any(marked):
            return text
        out, i = [], 0
        while i < len(text):
            if marked[i]:
                while i < len(text) and marked[i]:
                    i += 1
                out.append(MASK)
            else:
                j = marked.find(b"\1", i)
                j = len(text) if j == -1 else j
                out.append(text[i:j])
                i = j
        return "".join(out)


@functools.lru_cache(maxsize=64)
def redactor(secrets: tuple[str, ...]) -> Redactor:
    """A cached :class:`Redactor` for a tuple of secrets (building one costs a few milliseconds)."""
    return Redactor(secrets)


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` without any of ``secrets`` in any form, and without recognisable secret shapes."""
    return redactor(tuple(sorted({s for s in secrets if s}))).redact(text)


def excerpt(body: bytes | str, secrets: Iterable[str | None], limit: int = 300) -> str:
    """At most ``limit`` characters of a receiver's answer, redacted before it is cut (so a secret across the
    cut is redacted whole), control characters shown as ``\\xNN``."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = redact(text[: 4 * limit + 4096], secrets)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= limit else text[:limit] + "…"
