"""Mail the platform sends (e-mail verification, password reset) through a configurable SMTP server.

``SmtpConfig.from_env()`` reads the ``ARTLINEAGE_SMTP_*`` settings (host, port, from, user, password,
starttls; see docs/settings.md); without a host (local use, ``serve --example``), mail is not sent
and the whole message, links included, goes to the server log: the operator can follow or hand over a
link, while the client's answer stays the same as with a mail server (showing the link to the client
would tell it whether the address has an account). Uses the standard library's
``smtplib`` with a timeout: one short connection per message, no queue.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    sender: str = "artlineage <no-reply@localhost>"
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_env(cls) -> "SmtpConfig | None":
        """From ``artlineage.settings`` (``ARTLINEAGE_SMTP_*``); None without a host."""
        from ...settings import Settings
        s = Settings.from_env()
        if not s.smtp_host:
            return None
        return cls(s.smtp_host, s.smtp_port, s.smtp_from or cls.sender, s.smtp_user, s.smtp_password,
                   s.smtp_starttls)


def send_mail(config: SmtpConfig | None, to: str, subject: str, body: str) -> bool:
    """Send one plain-text message; False (logged, never raised) when there is no server or it fails,
    so a mail problem never turns a sign-up or a reset request into an error page."""
    if config is None:
        log.warning("no SMTP server configured: not sending %r to %s; the message would read:\n%s",
                    subject, to, body)
        return False
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = config.sender, to, subject
    msg.set_content(body, cte="8bit")  # links stay on one line (no quoted-printable soft breaks)
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
            if config.starttls:
                smtp.starttls()
            if config.user:
                smtp.login(config.user, config.password or "")
            smtp.send_message(msg)
        return True
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("sending %r to %s failed: %s", subject, to, exc)
        return False
