"""Who is asking: personal access links, server-side sessions, CSRF tokens, the Meldpunt password.

- A link carries `secrets.token_urlsafe(32)` (256 bits); the store keeps its SHA-256 only.
  Opening it (`exchange`) checks expiry and revocation and starts a company session.
- A session id is another 256-bit random value in an HttpOnly cookie; the store keeps its
  SHA-256, the kind (`company` | `meldpunt`), the company, the link it came from and the CSRF
  token of its forms. A company session ends with its link: revoking a link or letting it
  expire logs out every browser that used it (checked on every request, not only at login).
- The Meldpunt's password is checked against an argon2id hash from the settings
  (`exposure portal hash-password`), or a reverse proxy authenticates and sets a header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from exposure.models import AccessToken, Company, PortalSession, utcnow

TOKEN_BYTES = 32
COMPANY = "company"
MELDPUNT = "meldpunt"


def new_secret() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


# --- links --------------------------------------------------------------------------------------


class LinkState(StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class NewLink:
    token: str  # shown once; never stored
    token_id: int
    company_id: str
    expires_at: datetime


def create_link(
    session: Session,
    company_id: str,
    days: int,
    *,
    by: str = "",
    now: datetime | None = None,
) -> NewLink:
    """A new personal link for a company (earlier links stay valid until revoked)."""
    if session.get(Company, company_id) is None:
        raise LookupError(f"unknown company {company_id!r}")
    now = now or utcnow()
    token = new_secret()
    row = AccessToken(
        company_id=company_id,
        token_hash=digest(token),
        created_at=now,
        expires_at=now + timedelta(days=days),
        created_by=by,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return NewLink(token, row.id, company_id, row.expires_at)


def revoke_links(
    session: Session,
    company_id: str,
    token_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Revoke a company's links (one, or all when `token_id` is None); their sessions end too.
    Returns how many links were revoked."""
    now = now or utcnow()
    query = select(AccessToken).where(AccessToken.company_id == company_id)
    query = query.where(col(AccessToken.revoked_at).is_(None))
    if token_id is not None:
        query = query.where(AccessToken.id == token_id)
    rows = list(session.exec(query))
    for row in rows:
        row.revoked_at = now
        session.add(row)
    return len(rows)


def list_links(session: Session, company_id: str | None = None) -> list[AccessToken]:
    query = select(AccessToken).order_by(col(AccessToken.company_id), col(AccessToken.id))
    if company_id is not None:
        query = query.where(AccessToken.company_id == company_id)
    return list(session.exec(query))


def link_state(row: AccessToken | None, now: datetime) -> LinkState:
    if row is None:
        return LinkState.UNKNOWN
    if row.revoked_at is not None:
        return LinkState.REVOKED
    if row.expires_at <= now:
        return LinkState.EXPIRED
    return LinkState.VALID


def effective_state(session: Session, row: AccessToken | None, now: datetime) -> LinkState:
    """`link_state`, and a company that left the member list (inactive) counts as revoked."""
    state = link_state(row, now)
    if state is LinkState.VALID and row is not None:
        company = session.get(Company, row.company_id)
        if company is None or not company.active:
            return LinkState.REVOKED
    return state


def find_link(session: Session, token: str) -> AccessToken | None:
    if not token or len(token) > 128:
        return None
    return session.exec(select(AccessToken).where(AccessToken.token_hash == digest(token))).first()


# --- sessions -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller of one request, as the routes see it."""

    kind: str  # company | meldpunt
    company_id: str | None
    user: str
    csrf: str
    session_id: int

    @property
    def is_meldpunt(self) -> bool:
        return self.kind == MELDPUNT


def start_session(
    session: Session,
    kind: str,
    lifetime: timedelta,
    *,
    company_id: str | None = None,
    token: AccessToken | None = None,
    user: str = "",
    now: datetime | None = None,
) -> str:
    """A new session; returns the cookie value (never stored)."""
    now = now or utcnow()
    expires = now + lifetime
    if token is not None:
        expires = min(expires, token.expires_at)
        token.last_used_at = now
        session.add(token)
    cookie = new_secret()
    session.add(
        PortalSession(
            session_hash=digest(cookie),
            kind=kind,
            company_id=company_id,
            token_id=token.id if token is not None else None,
            user=user,
            csrf=new_secret(),
            created_at=now,
            expires_at=expires,
        )
    )
    return cookie


def identify(session: Session, cookie: str | None, now: datetime | None = None) -> Identity | None:
    """The identity behind a session cookie, or None (unknown, ended, expired, link gone)."""
    if not cookie or len(cookie) > 128:
        return None
    now = now or utcnow()
    row = session.exec(
        select(PortalSession).where(PortalSession.session_hash == digest(cookie))
    ).first()
    if row is None or row.ended_at is not None or row.expires_at <= now or row.id is None:
        return None
    if row.kind == COMPANY:
        token = session.get(AccessToken, row.token_id) if row.token_id is not None else None
        if (
            token is None
            or effective_state(session, token, now) is not LinkState.VALID
            or token.company_id != row.company_id
            or row.company_id is None
        ):
            return None
    elif row.kind != MELDPUNT:
        return None
    return Identity(row.kind, row.company_id, row.user, row.csrf, row.id)


def end_session(session: Session, session_id: int, now: datetime | None = None) -> None:
    row = session.get(PortalSession, session_id)
    if row is not None and row.ended_at is None:
        row.ended_at = now or utcnow()
        session.add(row)


# --- the Meldpunt's password ----------------------------------------------------------------------


def hash_password(password: str) -> str:
    """An argon2id hash (the library's current defaults) for `portal_admin_password_hash`."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


# A hash to verify against when the user name is wrong or no hash is set, so that a wrong name
# costs the same time as a wrong password.
_DUMMY: list[str] = []


def verify_password(stored_hash: str | None, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    hasher = PasswordHasher()
    if not stored_hash:
        if not _DUMMY:
            _DUMMY.append(hasher.hash(new_secret()))
        stored_hash = _DUMMY[0]
        password = password + "\x00never"
    try:
        return hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
