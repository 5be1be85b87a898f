"""E-mail channel over SMTP (aiosmtplib): optional STARTTLS and login, plain-text body."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from monitor.alerts.channels.base import TIMEOUT_S, PermanentError, RetryableError
from monitor.alerts.config import Receiver
from monitor.alerts.model import AlertEvent
from monitor.alerts.templates import Message, ids_header
from monitor.secrets import excerpt

__all__ = ["EmailChannel"]


class EmailChannel:
    """Sends one e-mail per message: subject = title, body = text."""

    def __init__(self, receiver: Receiver) -> None:
        if not receiver.host or not receiver.from_addr or not receiver.to_addrs:
            raise ValueError(f"receivers.{receiver.name}: email needs host, from_addr and to_addrs")
        self.name = receiver.name
        self._r = receiver

    def build(self, message: Message) -> EmailMessage:
        m = EmailMessage()
        m["Subject"] = message.title
        m["From"] = self._r.from_addr
        m["To"] = ", ".join(self._r.to_addrs)
        m["X-Monitor-Alert-Ids"] = ids_header(message.alert_ids, percent_encoded=False)
        m.set_content(message.text)
        return m

    async def send(self, message: Message, alerts: list[AlertEvent]) -> None:
        r, what = self._r, f"email {self.name}"
        try:
            await aiosmtplib.send(self.build(message), hostname=r.host, port=r.port, username=r.username,
                                  password=r.password, start_tls=r.starttls, use_tls=False, timeout=TIMEOUT_S)
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPAuthenticationError,
                aiosmtplib.SMTPNotSupported) as e:
            raise PermanentError(self._safe(what, e)) from None
        except aiosmtplib.SMTPResponseException as e:
            err = self._safe(what, e)
            raise (RetryableError(err) if 400 <= e.code < 500 else PermanentError(err)) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            raise RetryableError(self._safe(what, e)) from None

    def _safe(self, what: str, e: BaseException) -> str:
        return f"{what}: {excerpt(f'{type(e).__name__}: {e}', (*self._r.secrets, self._r.username))}"
