"""Email delivery over SMTP (`SMTP_URL`); no email leaves when it is unset."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

import campaigns
from bridge.runtime import Context

log = logging.getLogger(__name__)


class MailNotConfigured(RuntimeError):
    """SMTP_URL is not set: offers stay `created` until it is."""


def mask(email: str) -> str:
    """An email fit for logs: `a***@example.com`."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def build(ctx: Context, to: str, message: campaigns.RenderedMessage, unsubscribe_url: str) -> EmailMessage:
    """The MIME message: plain text and HTML, with one-click unsubscribe headers."""
    mail = EmailMessage()
    name, address = parseaddr(ctx.settings.mail_from)
    mail["From"] = formataddr((name, address))
    mail["To"] = to
    mail["Subject"] = message.subject
    mail["Message-ID"] = make_msgid(domain=address.partition("@")[2] or "relance.local")
    mail["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    return mail


def send(ctx: Context, to: str, message: campaigns.RenderedMessage, unsubscribe_url: str) -> None:
    """Send one message through the configured SMTP server."""
    if not ctx.settings.smtp_url:
        raise MailNotConfigured("SMTP_URL is not set")
    if not to:
        raise ValueError("offer has no recipient")
    url = urlsplit(ctx.settings.smtp_url)
    host, port = url.hostname or "localhost", url.port or (465 if url.scheme == "smtps" else 25)
    mail = build(ctx, to, message, unsubscribe_url)
    smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with smtp_class(host, port, timeout=20) as smtp:
        if url.scheme == "smtp+starttls" or (url.scheme == "smtp" and port == 587):
            smtp.starttls(context=ssl.create_default_context())
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(mail)
    log.info("offer email sent to %s", mask(to))
