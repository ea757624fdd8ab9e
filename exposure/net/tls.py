"""The TLS probe: one handshake, and everything it tells, as a value.

    result = await probe(ctx, "192.0.2.10", 443, "www.bakkerij.nl")
    result.accepted, result.version, result.cipher, result.leaf, result.trust

Used by the TLS and web checks (port 443) and by the mail checks (SMTP with STARTTLS, through
the `starttls` hook). What it does:

- connects (bounded by `connect_timeout`), optionally runs a plain-text `starttls` dialogue,
  then does the TLS handshake with SNI (bounded by `connect_timeout` again, as httpx does);
- offers a set of versions (`Offer`): the modern probe offers TLS 1.2-1.3, the legacy probe
  TLS 1.0-1.1 at OpenSSL security level 0 (one handshake answers "accepts 1.0 or 1.1"; the
  version the server picks says which);
- verifies nothing during the handshake (the contexts are `CERT_NONE` at security level 0, see
  `exposure.net.sslcontexts`), so that every server can be looked at, and then judges the chain
  the server sent with our own logic (`exposure.net.certs.verify_chain`): trust on its own axis,
  apart from expiry, host name, key size and signature hash;
- can run an `exchange` on the TLS stream before closing it (the HTTPS GET of the web check), so
  a site costs one handshake instead of two.

Outcomes are values (`Outcome`): ACCEPTED; REJECTED (the server refused what was offered: an
alert, a reset or an EOF during the handshake; for a legacy probe that means "not accepted");
NO_TLS (the `starttls` hook found no STARTTLS); FAILED (could not test: time-out, refused TCP,
unreachable, out of scope; see `failure`).

Every (address, port, server name, offer, purpose) is probed at most once per run (the run memo,
`RunMemo.once`, bounded: see `PROBE_MEMO_LIMIT`); later callers get the same result. Every handshake attempt
is counted (`tls_stats(ctx)`). A probe holds the run's per-IP slot and the family's
one-connection-per-IP slot (`family`, default "tls") for its whole connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from cryptography import x509

from exposure.net.certlimit import is_local_limit
from exposure.net.certs import ChainVerdict, load_der_chain, trust_store, verify_chain
from exposure.net.http import close_stream
from exposure.net.politeness import silent_addresses, silent_detail
from exposure.net.scope import in_scope
from exposure.net.sslcontexts import ClientContexts, contexts

if TYPE_CHECKING:
    from exposure.contract import CheckContext

Reader = asyncio.StreamReader
Writer = asyncio.StreamWriter
#: A plain-text dialogue before the handshake (EHLO, STARTTLS, ...). Raise `StartTlsUnavailable`
#: when the service does not offer TLS; any other exception is "could not test".
StartTls = Callable[[Reader, Writer], Awaitable[None]]
#: Something to do on the TLS stream once the handshake is done (an HTTP request, ...).
Exchange = Callable[[Reader, Writer], Awaitable[Any]]

_VERSIONS = {
    "TLSv1": "1.0",
    "TLSv1.1": "1.1",
    "TLSv1.2": "1.2",
    "TLSv1.3": "1.3",
}


class Offer(StrEnum):
    """The protocol versions a probe offers."""

    MODERN = "modern"  # TLS 1.2-1.3: how a current browser connects
    LEGACY = "legacy"  # TLS 1.0-1.1 only: "does the server still accept legacy TLS?"
    ANY = "any"  # TLS 1.0-1.3: whatever the server does best (opportunistic mail)

    def context(self, contexts: ClientContexts) -> ssl.SSLContext:
        if self is Offer.MODERN:
            return contexts.lax
        if self is Offer.LEGACY:
            return contexts.legacy
        return contexts.wide


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # alert, reset or EOF during the handshake: the offer was refused
    NO_TLS = "no_tls"  # the starttls dialogue found no STARTTLS
    FAILED = "failed"  # could not test: see `TlsResult.failure`


class ProbeFailure(StrEnum):
    TIMEOUT = "timeout"  # connect, dialogue or handshake time-out
    REFUSED = "refused"  # TCP connection refused
    UNREACHABLE = "unreachable"
    STARTTLS = "starttls"  # the plain-text dialogue broke (not "no STARTTLS": that is NO_TLS)
    OUT_OF_SCOPE = "out_of_scope"  # private/loopback/link-local without allow_private
    LOCAL_LIMIT = "local_limit"  # the server's message was over a limit of ours (net.certlimit)


class Rejection(StrEnum):
    ALERT = "alert"  # a TLS alert (protocol version, handshake failure, ...)
    RESET = "reset"  # TCP reset during the handshake
    EOF = "eof"  # the server closed the connection during the handshake
    NOT_TLS = "not_tls"  # the answer was not TLS at all (e.g. plain HTTP on 443)


class StartTlsUnavailable(Exception):
    """Raised by a `starttls` hook: the service answered but does not offer STARTTLS."""


@dataclass(frozen=True, slots=True)
class TlsResult:
    """What one handshake showed. `chain_der` is what the server sent, leaf first.

    Certificates are kept as DER and parsed on use (`chain`, `leaf`): results live in the run's
    probe memo, and a parsed `x509.Certificate` grows to several times its DER size as its
    fields are read.
    """

    address: str
    port: int
    server_name: str | None
    offer: Offer
    outcome: Outcome
    failure: ProbeFailure | None = None
    rejection: Rejection | None = None
    detail: str = ""
    version: str | None = None  # "TLSv1.3"
    cipher: str | None = None
    chain_der: tuple[bytes, ...] = ()
    trust: ChainVerdict | None = None
    exchange: Any = None  # what the exchange returned
    exchange_error: str = ""
    elapsed: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """The certificates the server sent, parsed (unparseable ones left out)."""
        return load_der_chain(self.chain_der)

    @property
    def leaf(self) -> x509.Certificate | None:
        if not self.chain_der:
            return None
        parsed = load_der_chain(self.chain_der[:1])
        return parsed[0] if parsed else None

    @property
    def version_number(self) -> str | None:
        """ "1.3" for "TLSv1.3"."""
        return _VERSIONS.get(self.version or "", self.version)

    def evidence(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "address": self.address,
            "port": self.port,
            "offered": str(self.offer),
            "outcome": str(self.outcome),
        }
        if self.server_name:
            data["server_name"] = self.server_name
        if self.version:
            data["version"] = self.version
        if self.cipher:
            data["cipher"] = self.cipher
        if self.failure is not None:
            data["failure"] = str(self.failure)
        if self.rejection is not None:
            data["rejection"] = str(self.rejection)
        if self.detail:
            data["detail"] = self.detail
        return data


ProbeKey = tuple[str, int, str, str, str]


@dataclass(slots=True)
class TlsStats:
    """Handshakes attempted in a run (a ClientHello sent), for the run summary, tests and
    benchmarks.

    Kept in a few dozen bytes per attempt: a run of 10,000 companies makes ≈20,000 attempts, and
    holding every key and name as strings was the largest thing still growing with N once the
    caches were full (`benchmarks/README.md`, "Memory flat in N"). Keys and names are remembered
    by their hash; only a key seen twice (a repeat, which should never happen) is kept in full.
    """

    total: int = 0
    seconds: float = 0.0  # connected, all probes
    waiting: float = 0.0  # seconds spent waiting for the politeness slots, all probes
    _keys: set[int] = field(default_factory=set)
    _names: dict[int, int] = field(default_factory=dict)  # hash of the name -> attempts
    _repeated: dict[ProbeKey, int] = field(default_factory=dict)

    def attempted(self, key: ProbeKey, name: str) -> None:
        """Count one ClientHello sent for `key` (to host `name`)."""
        self.total += 1
        digest = hash(key)
        if digest in self._keys:
            self._repeated[key] = self._repeated.get(key, 1) + 1
        else:
            self._keys.add(digest)
        named = hash(name.lower())
        self._names[named] = self._names.get(named, 0) + 1

    def for_name(self, name: str) -> int:
        """Attempts made to host `name` (or to the address, when there was no name)."""
        return self._names.get(hash(name.lower()), 0)

    @property
    def names(self) -> int:
        """Distinct host names (or addresses) probed."""
        return len(self._names)

    @property
    def repeated(self) -> dict[ProbeKey, int]:
        """Any (address, port, name, offer, purpose) handshaken more than once: should be {}."""
        return dict(self._repeated)


#: Finished probes kept for reuse. A company's tls and web checks run at the same time and share
#: their probes within seconds; a shared host (an MX used by many companies) stays because every
#: use refreshes it. Beyond this many, the least recently used finished results are dropped, so a
#: run over thousands of companies keeps a flat memory profile.
PROBE_MEMO_LIMIT = 4096
#: The run memo's namespace of probes (`RunMemo.once`: the probe runs in a task of its own, so a
#: caller that gives up never cancels it for the others waiting on it).
PROBE_NAMESPACE = "net.tls.probe"


async def tls_stats(ctx: CheckContext) -> TlsStats:
    """The run's handshake counters."""

    async def make() -> TlsStats:
        return TlsStats()

    return await ctx.memo.once("net.tls", "stats", make)


async def probe(
    ctx: CheckContext,
    address: str,
    port: int,
    server_name: str | None,
    *,
    offer: Offer = Offer.MODERN,
    starttls: StartTls | None = None,
    exchange: Exchange | None = None,
    purpose: str = "",
    family: str = "tls",
    handshake_only: bool = False,
) -> TlsResult:
    """Probe once per run: the same arguments return the result of the first call.

    `purpose` names what the hooks do (e.g. "https-get", "smtp"); it is part of the memo key,
    so probes with different hooks never share a result. Hooks require a purpose.

    `handshake_only`: return as soon as the handshake is done, without the `exchange` (whose
    result is then None); the probe goes on for the callers that want it. A check whose verdict
    rests on the handshake (the tls family) does not spend its time budget on a slow web server.
    """
    if (starttls is not None or exchange is not None) and not purpose:
        raise ValueError("a probe with hooks needs a `purpose` (it is part of the memo key)")
    key = key_of(address, port, server_name, offer, purpose)
    shakes = await _handshakes(ctx)

    async def make() -> TlsResult:
        try:
            done = await _probe(
                ctx, address, port, server_name, offer, starttls, exchange, purpose, family, key
            )
        finally:
            waiting = shakes.pop(key, None)
        if waiting is not None and not waiting.done():
            waiting.set_result(done)
        return done

    task = ctx.memo.start(PROBE_NAMESPACE, key, make, keep=PROBE_MEMO_LIMIT)
    if not handshake_only or exchange is None or task.done():
        return await asyncio.shield(task)
    shake = shakes.get(key)
    if shake is None:
        shake = shakes[key] = asyncio.get_running_loop().create_future()
    await asyncio.wait((shake, task), return_when=asyncio.FIRST_COMPLETED)
    if shake.done():
        return shake.result()
    if shakes.get(key) is shake:
        del shakes[key]
    return task.result()


async def _handshakes(ctx: CheckContext) -> dict[ProbeKey, asyncio.Future[TlsResult]]:
    """Probes in flight whose handshake someone waits for (`handshake_only`); an entry lives
    only as long as its probe."""

    async def make() -> dict[ProbeKey, asyncio.Future[TlsResult]]:
        return {}

    return await ctx.memo.once("net.tls", "handshakes", make)


async def _probe(
    ctx: CheckContext,
    address: str,
    port: int,
    server_name: str | None,
    offer: Offer,
    starttls: StartTls | None,
    exchange: Exchange | None,
    purpose: str,
    family: str,
    key: ProbeKey,
) -> TlsResult:
    settings = ctx.settings
    started = time.perf_counter()
    connected = started  # moves to when the slots are held: the probe's own time starts there
    stats = await tls_stats(ctx)

    def result(outcome: Outcome, **values: Any) -> TlsResult:
        now = time.perf_counter()
        elapsed = now - started
        stats.seconds += now - connected
        return TlsResult(
            address=address,
            port=port,
            server_name=server_name,
            offer=offer,
            outcome=outcome,
            elapsed=elapsed,
            **values,
        )

    if not in_scope(address, settings.allow_private):
        return result(
            Outcome.FAILED,
            failure=ProbeFailure.OUT_OF_SCOPE,
            detail=f"{address} is private, loopback or link-local address space",
        )
    client_contexts = await contexts(ctx)
    silent = await silent_addresses(ctx)
    shakes = await _handshakes(ctx)
    family_slot = contextlib.AsyncExitStack()  # left before the exchange (see below)
    await family_slot.enter_async_context(ctx.limits.family_ip(family, address))  # type: ignore[arg-type]
    async with family_slot, ctx.limits.ip(address):  # type: ignore[attr-defined]
        connected = time.perf_counter()
        stats.waiting += connected - started
        why = silent.why(address, server_name)
        if why is not None:
            return result(
                Outcome.FAILED,
                failure=ProbeFailure.TIMEOUT,
                detail=silent_detail(address, why),
            )
        try:
            async with asyncio.timeout(settings.connect_timeout):
                reader, writer = await asyncio.open_connection(address, port)
        except TimeoutError:
            silent.mark(address, f"TCP connect to port {port} timed out")
            return result(
                Outcome.FAILED,
                failure=ProbeFailure.TIMEOUT,
                detail=f"TCP connect to port {port} timed out",
            )
        except ConnectionRefusedError:
            return result(
                Outcome.FAILED,
                failure=ProbeFailure.REFUSED,
                detail=f"connection to port {port} refused",
            )
        except OSError as exc:
            return result(
                Outcome.FAILED, failure=ProbeFailure.UNREACHABLE, detail=f"{exc.strerror or exc}"
            )
        graceful = False
        try:
            if starttls is not None:
                try:
                    async with asyncio.timeout(settings.connect_timeout + settings.read_timeout):
                        await starttls(reader, writer)
                except StartTlsUnavailable as exc:
                    return result(Outcome.NO_TLS, detail=str(exc) or "STARTTLS not offered")
                except TimeoutError:
                    return result(
                        Outcome.FAILED,
                        failure=ProbeFailure.TIMEOUT,
                        detail="the dialogue before STARTTLS timed out",
                    )
                except Exception as exc:
                    return result(
                        Outcome.FAILED,
                        failure=ProbeFailure.STARTTLS,
                        detail=f"{type(exc).__name__}: {exc}"[:300],
                    )
            stats.attempted(
                key_of(address, port, server_name, offer, purpose), server_name or address
            )
            try:
                async with asyncio.timeout(settings.connect_timeout):
                    await writer.start_tls(
                        offer.context(client_contexts),
                        server_hostname=server_name or None,
                        ssl_handshake_timeout=settings.connect_timeout + 1,
                    )
            except TimeoutError:
                detail = f"TLS handshake timed out after {settings.connect_timeout:g} s"
                if offer is Offer.MODERN:  # some boxes drop a legacy ClientHello silently
                    silent.mark(address, f"{detail} on port {port}", server_name or address)
                return result(Outcome.FAILED, failure=ProbeFailure.TIMEOUT, detail=detail)
            except (ssl.SSLError, ConnectionError, EOFError, OSError) as exc:
                if is_local_limit(exc):  # our limit, not the server's refusal: no verdict
                    return result(
                        Outcome.FAILED,
                        failure=ProbeFailure.LOCAL_LIMIT,
                        detail=f"the server's TLS message is over our own limit ({exc})"[:300],
                    )
                rejection, detail = _rejection(exc)
                return result(Outcome.REJECTED, rejection=rejection, detail=detail)
            graceful = True
            ssl_object = writer.get_extra_info("ssl_object")
            chain_der = tuple(_peer_chain(ssl_object))
            chain = load_der_chain(chain_der)
            store = await trust_store(ctx)
            trust = verify_chain(chain[0] if chain else None, chain, store)
            cipher = ssl_object.cipher() if ssl_object is not None else None
            exchanged: Any = None
            exchange_error = ""
            if exchange is not None:
                waiting = shakes.get(key)
                if waiting is not None and not waiting.done():
                    waiting.set_result(
                        TlsResult(
                            address=address,
                            port=port,
                            server_name=server_name,
                            offer=offer,
                            outcome=Outcome.ACCEPTED,
                            elapsed=time.perf_counter() - started,
                            version=ssl_object.version() if ssl_object is not None else None,
                            cipher=cipher[0] if cipher else None,
                            chain_der=chain_der,
                            trust=trust,
                        )
                    )
                # The family's one-connection-per-address rule is about handshakes: the HTTP
                # waits that follow count against the per-address limit only, so a slow web
                # server does not hold up the next name's handshake on the same address.
                await family_slot.aclose()
                try:
                    async with asyncio.timeout(settings.connect_timeout + settings.read_timeout):
                        exchanged = await exchange(reader, writer)
                except TimeoutError:
                    exchange_error, graceful = "timed out", False
                except Exception as exc:
                    exchange_error, graceful = f"{type(exc).__name__}: {exc}"[:300], False
            return result(
                Outcome.ACCEPTED,
                version=ssl_object.version() if ssl_object is not None else None,
                cipher=cipher[0] if cipher else None,
                chain_der=chain_der,
                trust=trust,
                exchange=exchanged,
                exchange_error=exchange_error,
            )
        finally:
            await close_stream(writer, graceful=graceful)


def key_of(
    address: str, port: int, server_name: str | None, offer: Offer, purpose: str
) -> ProbeKey:
    return (address, port, (server_name or "").lower(), str(offer), purpose)


def _rejection(exc: BaseException) -> tuple[Rejection, str]:
    """How the server refused the handshake, in words for the evidence."""
    if isinstance(exc, ssl.SSLEOFError):
        return Rejection.EOF, "the server closed the connection during the handshake"
    if isinstance(exc, ssl.SSLError):
        reason = (exc.reason or "").upper()
        if reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"):
            return Rejection.NOT_TLS, f"the answer is not TLS ({exc.reason})"
        return Rejection.ALERT, exc.reason or str(exc)
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return Rejection.RESET, "the server reset the connection during the handshake"
    if isinstance(exc, EOFError | ConnectionAbortedError | asyncio.IncompleteReadError):
        return Rejection.EOF, "the server closed the connection during the handshake"
    # anything else (by type, not by the words of its message): the handshake ended unanswered
    return Rejection.EOF, str(exc) or type(exc).__name__


def _peer_chain(ssl_object: Any) -> list[bytes]:
    """The certificates the server sent, leaf first, as DER.

    Python 3.13 has `get_unverified_chain()` in public; 3.10-3.12 have it on the internal
    `_sslobj`. Without either, the leaf alone (`getpeercert(binary_form=True)`).
    """
    if ssl_object is None:
        return []
    getter = getattr(ssl_object, "get_unverified_chain", None)
    if getter is None:
        getter = getattr(getattr(ssl_object, "_sslobj", None), "get_unverified_chain", None)
    if getter is not None:
        try:
            certs = getter() or []
        except (ssl.SSLError, ValueError):
            certs = []
        blobs = [c if isinstance(c, bytes) else c.public_bytes(_der_encoding()) for c in certs]
        if blobs:
            return blobs
    leaf = ssl_object.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def _der_encoding() -> int:
    import _ssl

    return int(getattr(_ssl, "ENCODING_DER", 2))


async def tls_summary(ctx: CheckContext) -> dict[str, float]:
    """The run's handshake figures for the run summary and the benchmark: attempts in total,
    distinct host names probed, attempts per name, repeats (should be 0), seconds spent
    connected (per name: the cost per host) and seconds spent waiting for politeness slots;
    and the connections (TLS or plain HTTP) not made because their address had been silent."""
    stats = await tls_stats(ctx)
    silent = await silent_addresses(ctx)
    names = stats.names
    seconds = stats.seconds
    return {
        "handshakes": stats.total,
        "names": names,
        "handshakes_per_name": round(stats.total / names, 3) if names else 0.0,
        "repeated": len(stats.repeated),
        "seconds": round(seconds, 3),
        "seconds_per_name": round(seconds / names, 4) if names else 0.0,
        "waiting_seconds": round(stats.waiting, 3),
        "silent_addresses": len(silent),
        "silent_skipped": silent.skipped,
    }
