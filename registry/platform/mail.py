"""The only module that talks SMTP: build a message, send it, classify what went wrong.

smtplib with an explicit timeout (a hung relay must not hang the scheduler thread), plain,
STARTTLS or implicit TLS, optional login, all from Settings. Failures are raised as classified
errors so the outbox decides between retrying and giving up:

- `RelayDown` (a `ConnectionFailed`): the relay itself is unusable — no connection (refused,
  timeout), TLS or login refused, or 530/538 (authentication or STARTTLS required). Nothing is
  wrong with any message: the drain stops and no message is charged an attempt or a backoff.
- `ConnectionFailed` (transient): an established session broke while this message was sent
  (disconnect, timeout mid-message). The outbox then opens a fresh session: if that fails the
  relay went away (`RelayDown`, nobody charged), else this message is retried with backoff.
- `TransientMailError`: the relay answered 4xx for this message (greylisting, mailbox busy).
- `PermanentMailError`: the relay answered 5xx, or the address is not an address.

A wrong password is treated as a connection failure, not a permanent one: it is a
configuration fault, and once fixed every waiting message should still go out. So is a relay
answering 530/538 (authentication or STARTTLS required) when the settings send neither.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from email.errors import HeaderParseError
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.mime.text import MIMEText
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, getaddresses

from config import Settings
from registry.platform.db import utcnow

#: 530 authentication (or STARTTLS) required, 538 encryption required: the settings are wrong, not the message
CONFIGURATION_CODES = frozenset({530, 538})


class MailError(Exception):
    """A message could not be sent; `transient` tells whether trying again may help."""

    transient = False


class TransientMailError(MailError):
    """Try again later (4xx for this message)."""

    transient = True


class ConnectionFailed(TransientMailError):
    """The relay could not be reached or dropped the session: retry the whole batch later."""


class RelayDown(ConnectionFailed):
    """The relay cannot be used at all (unreachable, TLS/login refused, 530/538): no message is at fault."""


class PermanentMailError(MailError):
    """Do not try again (5xx, bad address)."""


#: an address the header registry's parser below always accepts as it is (a dot-atom of RFC 5322's atext, `@`,
#: a dotted domain of letters, digits and hyphens): nearly every real one. Parsing costs ~20 µs a message.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                            r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def check_address(addr: str) -> str:
    """Return `addr` stripped if it looks like a deliverable address. :raises PermanentMailError:"""
    if _PLAIN_ADDRESS.fullmatch(addr):
        return addr
    text = addr.strip()
    try:
        parsed = Address(addr_spec=text)
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise PermanentMailError(f"邮箱地址无效 / bad address {addr!r}: {exc}") from None
    if not parsed.username or "." not in parsed.domain or any(c.isspace() for c in text):
        raise PermanentMailError(f"邮箱地址无效 / bad address {addr!r}")
    return text


def build_message(*, from_addr: str, to_addr: str, subject: str, body: str, message_id: str) -> Message:
    """Return a UTF-8 plain-text message (RFC 2047 subject, base64 body) with the given stable Message-ID.

    Built with the classic (compat32) classes: `EmailMessage` parses every header it is given
    through the header registry, ~2 ms a message on the bench machine — as much as the SMTP
    exchange itself (bench/RESULTS.md, "Reminders through SMTP"). Addresses other than plain
    ASCII (a display name in Chinese in REGISTRY_MAIL_FROM) take the `EmailMessage` path, which
    encodes them.
    """
    to = check_address(to_addr)
    if not (from_addr.isascii() and to.isascii() and message_id.isascii()):
        return _build_email_message(from_addr, to, subject, body, message_id)
    msg = MIMEText(body, "plain", "utf-8")
    msg["From"] = from_addr
    msg["To"] = to
    msg["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")
    msg["Message-ID"] = message_id
    msg["Date"] = format_datetime(utcnow())
    return msg


def _build_email_message(from_addr: str, to_addr: str, subject: str, body: str, message_id: str) -> EmailMessage:
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = from_addr
    msg["To"] = to_addr
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg["Date"] = format_datetime(utcnow())
    msg.set_content(body, charset="utf-8")
    return msg


def _code_error(code: int, text: object) -> MailError:
    detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    if code in CONFIGURATION_CODES:
        return RelayDown(f"邮件服务器要求登录或加密连接（错误码 {code}），请系统管理员检查邮件服务器设置 / SMTP {code} "
                         f"{detail}: the relay requires authentication or TLS: {SETTINGS_HINT}")
    cls = TransientMailError if 400 <= code < 500 else PermanentMailError
    return cls(f"SMTP {code} {detail}".strip())


def classify(exc: Exception) -> MailError:
    """Map an smtplib/socket exception to a transient or permanent MailError."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):  # one recipient per message here
        code, text = next(iter(exc.recipients.values()), (550, b"recipient refused"))
        return _code_error(code, text)
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError | smtplib.SMTPAuthenticationError):
        return ConnectionFailed(f"{_what_failed(exc)} / {exc.__class__.__name__}: {exc}; {SETTINGS_HINT}")
    if isinstance(exc, smtplib.SMTPResponseException):
        return _code_error(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentMailError(f"邮件服务器不支持该操作 / not supported by the relay: {exc}")
    if isinstance(exc, OSError | smtplib.SMTPException):
        return ConnectionFailed(f"{_what_failed(exc)} / {exc.__class__.__name__}: {exc}; {SETTINGS_HINT}")
    raise exc


#: the operator's hint, in the technical detail after " / " (an officer reading the 提醒 page cannot act on it)
SETTINGS_HINT = "check the REGISTRY_SMTP_* settings"


def _what_failed(exc: Exception) -> str:
    """Say in Chinese why the relay could not be used (the technical detail follows after " / ")."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "邮件服务器登录失败，请系统管理员检查邮件服务器的用户名和密码设置"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "邮件服务器断开了连接，将稍后重试"
    if isinstance(exc, ConnectionRefusedError):
        return "无法连接邮件服务器（连接被拒绝），请系统管理员检查邮件服务器设置及其是否运行，将稍后重试"
    if isinstance(exc, TimeoutError):
        return "连接邮件服务器超时，将稍后重试"
    return "无法连接邮件服务器，将稍后重试"


#: headers whose presence makes `send_message` choose the envelope otherwise than by From and To
_ENVELOPE_HEADERS = frozenset({"sender", "cc", "bcc"})


class Mailer:
    """One SMTP session, opened on first use and reused for a batch; use as a context manager."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._senders: dict[str, str] = {}  #: a From header's envelope sender, parsed once

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout,
                                                  context=ssl.create_default_context())
        else:  # no TLS context unless one is used: loading the system's CA certificates takes ~30 ms
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        try:
            if s.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def connect(self) -> None:
        """Open the session unless one is open. :raises RelayDown: the relay cannot be used."""
        if self._smtp is None:
            try:
                self._smtp = self._connect()
            except (OSError, smtplib.SMTPException) as exc:  # failing to open a session is the relay's fault
                raise RelayDown(str(classify(exc))) from exc

    def send(self, msg: Message) -> None:
        """Send one message. :raises MailError: classified (see the module docstring)."""
        self.connect()
        assert self._smtp is not None
        try:
            self._smtp.send_message(msg, *self._envelope(msg))
        except Exception as exc:  # noqa: BLE001  every failure is classified below
            error = classify(exc)
            if isinstance(error, ConnectionFailed):
                self.close()
            raise error from exc

    def _envelope(self, msg: Message) -> tuple[str | None, list[str] | None]:
        """The envelope sender and recipients `send_message` would read from `msg`'s headers (None: let it).

        It parses the From and To headers of every message (~20 µs); here the sender is parsed once per
        From header, as `send_message` parses it, and a To header that is one plain address (`check_address`'s
        quick pattern, which the parser returns unchanged) is that address. A message with headers that
        change the envelope (Sender, Cc, Bcc, Resent-*) is left to `send_message`.
        """
        if any(name.lower() in _ENVELOPE_HEADERS or name[:7].lower() == "resent-" for name in msg.keys()):
            return None, None
        sender = msg["From"]
        if sender is None:
            return None, None
        from_addr = self._senders.get(str(sender))
        if from_addr is None:
            from_addr = self._senders[str(sender)] = getaddresses([sender])[0][1]
        to = msg["To"]
        return from_addr, [str(to)] if to is not None and _PLAIN_ADDRESS.fullmatch(str(to)) else None

    def close(self) -> None:
        """End the session politely; a broken one is just dropped."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
