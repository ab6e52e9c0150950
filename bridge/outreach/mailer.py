"""Email delivery over SMTP (`SMTP_URL`); no email leaves when it is unset."""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate, getaddresses, make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

import campaigns
from bridge.infra.context import Context

log = logging.getLogger(__name__)
# One bare address: no display name, no list, no comment, no quoting (what normalize_email stores).
_ADDRESS = re.compile(r"[^\s@,;:<>()\[\]\\\"]+@[^\s@,;:<>()\[\]\\\"]+")


class MailNotConfigured(RuntimeError):
    """SMTP_URL is not set: offers stay `created` until it is."""


class BadRecipient(ValueError):
    """The recipient is not exactly one email address: nothing is sent, ever."""


class MailNotSent(RuntimeError):
    """The SMTP server did not take the message; `permanent` when it refused it for good (5xx)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class MailOutcomeUnknown(RuntimeError):
    """The connection failed while the message was being handed over: it may or may not have been taken."""


def mask(email: str) -> str:
    """An email fit for logs: `a***@example.com`."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def recipient(to: str | None) -> str:
    """`to` when it is exactly one bare address; BadRecipient otherwise ("a@x.com, b@y.com" is two)."""
    if not to:
        raise BadRecipient("offer has no recipient")
    address = to.strip()
    if getaddresses([address]) != [("", address)] or not _ADDRESS.fullmatch(address):
        raise BadRecipient("recipient is not exactly one email address")
    return address


def build(ctx: Context, to: str, message: campaigns.RenderedMessage, unsubscribe_url: str) -> EmailMessage:
    """The MIME message: plain text and HTML, with one-click unsubscribe headers."""
    mail = EmailMessage()
    name, address = parseaddr(ctx.settings.mail_from)
    # The merchant's name as the sender (the address stays ours: it is the one SPF and DKIM vouch for).
    sender = " ".join(message.sender_name.split())[:100] or name
    mail["From"] = formataddr((sender, address))
    mail["To"] = recipient(to)
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = make_msgid(domain=address.partition("@")[2] or "relance.local")
    mail["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    if message.locale:  # after the content: set_content clears every Content-* header
        mail["Content-Language"] = message.locale
    return mail


def send(ctx: Context, to: str, message: campaigns.RenderedMessage, unsubscribe_url: str) -> None:
    """Send one message: returns once the server took it.

    Raises BadRecipient before any connection, MailNotSent when the server certainly did not take the
    message (no connection, a refusal), and MailOutcomeUnknown when the connection broke while handing it
    over (the caller must not simply send it again).
    """
    if not ctx.settings.smtp_url:
        raise MailNotConfigured("SMTP_URL is not set")
    mail = build(ctx, to, message, unsubscribe_url)
    url = urlsplit(ctx.settings.smtp_url)
    host, port = url.hostname or "localhost", url.port or (465 if url.scheme == "smtps" else 25)
    smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    try:
        smtp = smtp_class(host, port, timeout=20)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailNotSent(f"SMTP connection failed: {_describe(exc)}") from exc
    try:
        try:  # a failure here is a configuration or server problem, not this offer's: retried
            if url.scheme == "smtp+starttls" or (url.scheme == "smtp" and port == 587):
                smtp.starttls(context=ssl.create_default_context())
            if url.username:
                smtp.login(unquote(url.username), unquote(url.password or ""))
        except (OSError, smtplib.SMTPException) as exc:
            raise MailNotSent(f"SMTP session failed: {_describe(exc)}") from exc
        _hand_over(smtp, mail, str(mail["To"]))
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp.quit()  # the message is taken already: a failing QUIT changes nothing
        smtp.close()
    log.info("offer email sent to %s", mask(str(mail["To"])))


def _hand_over(smtp: smtplib.SMTP, mail: EmailMessage, to: str) -> None:
    """MAIL, RCPT, DATA; a server's answer is definite, a broken connection is not."""
    try:
        smtp.send_message(mail, to_addrs=[to])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise MailNotSent(f"recipient refused: {codes}", permanent=all(c >= 500 for c in codes)) from exc
    except smtplib.SMTPNotSupportedError as exc:  # e.g. an address that needs SMTPUTF8
        raise MailNotSent(f"not supported by the server: {exc}", permanent=True) from exc
    except (smtplib.SMTPSenderRefused, smtplib.SMTPHeloError) as exc:  # our side: configuration, retried
        raise MailNotSent(f"session refused: {_describe(exc)}") from exc
    except smtplib.SMTPResponseException as exc:
        raise MailNotSent(f"message refused: {_describe(exc)}", permanent=exc.smtp_code >= 500) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise MailOutcomeUnknown(f"connection lost while sending: {_describe(exc)}") from exc


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        return f"{exc.smtp_code} {detail}"[:200].strip()
    return type(exc).__name__
