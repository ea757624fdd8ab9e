"""How a warning leaves: an `.eml` file in an outbox, or SMTP to the Meldpunt's mail server.

SMTP (`smtp_url`):

- `smtp://user:pass@host:587` speaks STARTTLS, and refuses to go on when the server does not
  offer it (`?starttls=1` says the same explicitly); `smtp://host:25?starttls=0` is plain SMTP
  without TLS, for a relay on the same machine; `smtps://user:pass@host:465` is implicit TLS.
- The server's certificate is verified against `smtp_ca_bundle`, or the system trust store.
- Credentials are only sent over TLS (or to a relay on loopback): a password in the clear on
  the way to the mail server would undo the point of the warnings.
- One connection for the whole run, opened when the first message goes out; a connection
  that dropped is opened again once per message.

Delivery is per recipient: a server that refuses one address (`550 no such user`) still gets
the message for the others, and the result says which were refused. A message that reached
nobody is failed. A server that cannot be reached, or refuses the login or TLS, fails every
message of the run with the same reason without waiting for a time-out per message.

Why `smtplib` in a worker thread and not an async library: a run sends a few hundred messages
one after the other over one connection; nothing is gained from concurrency, and the standard
library is one dependency less to keep safe.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path
from types import TracebackType

from exposure.net.smtp_url import SmtpConfig


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one message went: accepted and refused recipients, or why nothing went out."""

    accepted: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()  # (address, server reply)
    error: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.accepted)

    def describe(self) -> str:
        """One line for the audit trail."""
        parts: list[str] = []
        if self.accepted:
            parts.append("accepted for " + ", ".join(self.accepted))
        if self.refused:
            parts.append(
                "refused for "
                + "; ".join(f"{address} ({reply})" for address, reply in self.refused)
            )
        if self.error:
            parts.append(self.error)
        return "; ".join(parts) or "nothing sent"


class SmtpUnavailableError(RuntimeError):
    """The server cannot be used at all (connection, TLS or login failed)."""


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    text = " ".join(text.split())
    return f"{code} {text}"[:300]


class SmtpTransport:
    """One SMTP connection for a run of messages (blocking; call it from a worker thread)."""

    def __init__(
        self,
        config: SmtpConfig,
        context: ssl.SSLContext,
        *,
        timeout: float = 30.0,
        local_hostname: str | None = None,
    ) -> None:
        self.config = config
        self._context = context
        self._timeout = timeout
        self._local_hostname = local_hostname
        self._smtp: smtplib.SMTP | None = None
        self._unavailable = ""

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        smtp: smtplib.SMTP
        try:
            if config.security == "tls":
                smtp = smtplib.SMTP_SSL(
                    config.host,
                    config.port,
                    local_hostname=self._local_hostname,
                    timeout=self._timeout,
                    context=self._context,
                )
            else:
                smtp = smtplib.SMTP(
                    config.host,
                    config.port,
                    local_hostname=self._local_hostname,
                    timeout=self._timeout,
                )
        except (OSError, smtplib.SMTPException) as exc:
            raise SmtpUnavailableError(
                f"cannot connect to {config.describe()}: {_why(exc)}"
            ) from exc
        try:
            smtp.ehlo()
            if config.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise SmtpUnavailableError(
                        f"{config.describe()}: the server does not offer STARTTLS"
                    )
                smtp.starttls(context=self._context)
                smtp.ehlo()
            if config.username:
                smtp.login(config.username, config.password)
        except SmtpUnavailableError:
            _quietly_close(smtp)
            raise
        except smtplib.SMTPAuthenticationError as exc:
            _quietly_close(smtp)
            raise SmtpUnavailableError(
                f"{config.describe()}: login refused: {_reply(exc.smtp_code, exc.smtp_error)}"
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            _quietly_close(smtp)
            raise SmtpUnavailableError(f"{config.describe()}: {_why(exc)}") from exc
        return smtp

    def send(self, message: EmailMessage, sender: str, recipients: Sequence[str]) -> Delivery:
        """Deliver one message to `recipients` (the envelope; the headers are the message's)."""
        if self._unavailable:
            return Delivery(error=f"not attempted: {self._unavailable}")
        for attempt in (1, 2):
            try:
                if self._smtp is None:
                    self._smtp = self._connect()
                return self._send(self._smtp, message, sender, recipients)
            except SmtpUnavailableError as exc:
                self._smtp = None
                self._unavailable = str(exc)
                return Delivery(error=str(exc))
            except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
                # An idle connection the server closed: once more on a fresh connection.
                self._smtp = None
                if attempt == 2:
                    return Delivery(error=f"connection lost: {_why(exc)}")
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self, smtp: smtplib.SMTP, message: EmailMessage, sender: str, recipients: Sequence[str]
    ) -> Delivery:
        try:
            refused = smtp.send_message(message, from_addr=sender, to_addrs=list(recipients))
        except smtplib.SMTPRecipientsRefused as exc:
            _reset(smtp)
            return Delivery(
                refused=tuple(
                    (address, _reply(code, reply))
                    for address, (code, reply) in sorted(exc.recipients.items())
                ),
                error="every recipient was refused",
            )
        except smtplib.SMTPSenderRefused as exc:
            _reset(smtp)
            return Delivery(error=f"sender refused: {_reply(exc.smtp_code, exc.smtp_error)}")
        except smtplib.SMTPDataError as exc:
            _reset(smtp)
            return Delivery(error=f"message refused: {_reply(exc.smtp_code, exc.smtp_error)}")
        except smtplib.SMTPResponseException as exc:
            _reset(smtp)
            return Delivery(error=f"server error: {_reply(exc.smtp_code, exc.smtp_error)}")
        except smtplib.SMTPServerDisconnected:
            raise
        except smtplib.SMTPException as exc:
            _reset(smtp)
            return Delivery(error=f"SMTP error: {_why(exc)}")
        accepted = tuple(a for a in recipients if a not in refused)
        return Delivery(
            accepted=accepted,
            refused=tuple(
                (address, _reply(code, reply)) for address, (code, reply) in sorted(refused.items())
            ),
        )

    def close(self) -> None:
        if self._smtp is not None:
            smtp, self._smtp = self._smtp, None
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                _quietly_close(smtp)


def _reset(smtp: smtplib.SMTP) -> None:
    """RSET after a refused transaction, so the next message starts clean."""
    with contextlib.suppress(OSError, smtplib.SMTPException):
        smtp.rset()


def _quietly_close(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        smtp.close()


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}"[:300]


def message_bytes(message: EmailMessage) -> bytes:
    """The message as RFC 5322 bytes (CRLF line ends), as it would go over SMTP."""
    return message.as_bytes(policy=SMTP_POLICY)


def write_eml(outbox: Path, name: str, message: EmailMessage) -> Path:
    """Write one `.eml` atomically (a reader never sees half a message); return its path.

    `name` must be a plain file name; the caller builds it from the reference number.
    """
    if Path(name).name != name or not name.endswith(".eml"):
        raise ValueError(f"not a plain .eml file name: {name!r}")
    outbox.mkdir(parents=True, exist_ok=True)
    target = outbox / name
    data = message_bytes(message)
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".eml.tmp", dir=outbox)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
