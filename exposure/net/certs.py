"""Certificates: the facts a person can act on, and each defect judged on its own axis.

A browser rejects a certificate for the first reason it finds, and OpenSSL's verification mixes
them too: an expired certificate from a trusted CA fails with "certificate has expired", an
RSA-1024 one with "EE certificate key too weak", a SHA-1 one with "CA signature digest algorithm
too weak". Reported like that, a weak key would read as "untrusted" and the fix would be wrong.
So each axis is judged here separately:

- **trust** (`verify_chain`): does the chain the server sent lead to a root in the trust store?
  Our own path building: issuer names, signatures (SHA-1 and MD5 signatures verified like any
  other), CA flags. Time, host name, key size and hash strength are deliberately *not* part of
  it; they have their own ids;
- **validity period**: `not_before`/`not_after` against the run's clock (`CertInfo`);
- **host name** (`matches_host`): subjectAltName only (RFC 6125; browsers ignore the CN);
- **key** (`weak_key`): RSA/DSA below 2048 bits, EC below 224 bits;
- **signature** (`weak_signature`): SHA-1 or MD5 (or older).

What trust does not look at (documented limits): name constraints, policies, EKU of
intermediates, revocation. An intermediate that is missing is not fetched through AIA (that
would contact a third party); the verdict then says the issuer was not found.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

if TYPE_CHECKING:
    from exposure.contract import CheckContext
    from exposure.settings import Settings

EXPIRING_DAYS = 14
MIN_RSA_BITS = 2048
MIN_EC_BITS = 224
WEAK_HASHES = frozenset({"sha1", "md5", "md4", "md2"})
MAX_CHAIN_DEPTH = 8


# --- facts ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CertInfo:
    """What a person and the ICT partner need to know about one certificate."""

    subject: str
    issuer: str
    sans: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    key_type: str  # "RSA", "EC", "Ed25519", "Ed448", "DSA", or the class name
    key_bits: int
    signature_algorithm: str  # e.g. "sha256WithRSAEncryption"
    signature_hash: str | None  # e.g. "sha256"; None for Ed25519/Ed448
    serial: str
    sha256: str
    self_issued: bool

    def days_left(self, now: datetime) -> int:
        """Whole days until notAfter (negative once expired)."""
        seconds = (self.not_after - now).total_seconds()
        return int(seconds // 86400)

    def expired(self, now: datetime) -> bool:
        return self.not_after < now

    def not_yet_valid(self, now: datetime) -> bool:
        return self.not_before > now

    def expiring(self, now: datetime, days: int = EXPIRING_DAYS) -> bool:
        """Valid now but ends within `days` days (expired certificates are not "expiring")."""
        return not self.expired(now) and (self.not_after - now).total_seconds() <= days * 86400

    @property
    def weak_key(self) -> bool:
        if self.key_type in ("RSA", "DSA"):
            return self.key_bits < MIN_RSA_BITS
        if self.key_type == "EC":
            return self.key_bits < MIN_EC_BITS
        return False

    @property
    def weak_signature(self) -> bool:
        if self.signature_hash is not None and self.signature_hash.lower() in WEAK_HASHES:
            return True
        name = self.signature_algorithm.lower()
        return any(weak in name for weak in WEAK_HASHES)

    @property
    def key(self) -> str:
        return f"{self.key_type}-{self.key_bits}" if self.key_bits else self.key_type

    def evidence(self, now: datetime) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "san": list(self.sans),
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "days_left": self.days_left(now),
            "key": self.key,
            "signature_algorithm": self.signature_algorithm,
            "serial": self.serial,
            "sha256": self.sha256,
        }


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=2048)
def describe(cert: x509.Certificate) -> CertInfo:
    """The facts of a certificate; never raises on odd but parseable certificates.

    Cached (a certificate hashes and compares by its DER): the tls, web, security.txt and mail
    checks each describe the same leaf, and a handful of intermediates sign most of an area's
    sites. `CertInfo` is immutable and holds no client, so sharing it across runs is safe; the
    bound keeps the cache at a few MB."""
    key_type, bits = key_strength(cert)
    try:
        hash_algorithm = cert.signature_hash_algorithm
        hash_name = hash_algorithm.name if hash_algorithm is not None else None
    except UnsupportedAlgorithm:
        hash_name = _oid_hash(cert)
    return CertInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        sans=tuple(san_names(cert)),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_type=key_type,
        key_bits=bits,
        signature_algorithm=_signature_name(cert),
        signature_hash=hash_name,
        serial=format(cert.serial_number, "x"),
        sha256=cert.fingerprint(hashes.SHA256()).hex(),
        self_issued=_same_name(cert.issuer, cert.subject),
    )


def _signature_name(cert: x509.Certificate) -> str:
    name = getattr(cert.signature_algorithm_oid, "_name", "")
    return name if name and name != "Unknown OID" else cert.signature_algorithm_oid.dotted_string


def _oid_hash(cert: x509.Certificate) -> str | None:
    name = _signature_name(cert).lower()
    for weak in WEAK_HASHES:
        if weak in name:
            return weak
    return None


def key_strength(cert: x509.Certificate) -> tuple[str, int]:
    """(key type, size in bits) of the certificate's public key."""
    try:
        key = cert.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return "unknown", 0
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    return type(key).__name__, 0


def san_names(cert: x509.Certificate) -> list[str]:
    """DNS names and IP addresses of the subjectAltName (empty when absent or malformed)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return []
    names: list[str] = [str(n) for n in san.get_values_for_type(x509.DNSName)]
    names.extend(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    return names


def matches_host(cert: x509.Certificate, host: str) -> bool:
    """Does a subjectAltName cover `host` (an A-label name or an IP address)? RFC 6125.

    Wildcards only as the whole left-most label (`*.example.nl` covers `www.example.nl`, not
    `example.nl` nor `a.b.example.nl`), never partial (`w*.example.nl`) and never for a bare
    public suffix (`*.nl`). The common name is ignored, as browsers do.
    """
    host = host.strip().rstrip(".").lower()
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        return any(ip == other for other in san.get_values_for_type(x509.IPAddress))
    return any(_dns_match(str(p), host) for p in san.get_values_for_type(x509.DNSName))


def _dns_match(pattern: str, host: str) -> bool:
    pattern = pattern.strip().rstrip(".").lower()
    if not pattern:
        return False
    if "*" not in pattern:
        return pattern == host
    if not pattern.startswith("*.") or "*" in pattern[2:]:
        return False
    suffix = pattern[2:]
    if "." not in suffix:
        return False
    first, _, rest = host.partition(".")
    return bool(first) and rest == suffix


# --- trust --------------------------------------------------------------------------------------


def _same_name(a: x509.Name, b: x509.Name) -> bool:
    """Name equality, also when two encodings differ only in case or string type."""
    if a == b:
        return True
    return a.rfc4514_string().casefold() == b.rfc4514_string().casefold()


def _name_key(name: x509.Name) -> str:
    return name.rfc4514_string().casefold()


class TrustStore:
    """The trust anchors (roots) a scan trusts: `ca_bundle`, or the system/certifi store."""

    def __init__(self, anchors: Iterable[x509.Certificate], source: str = "") -> None:
        unique: dict[bytes, x509.Certificate] = {}
        for cert in anchors:
            unique.setdefault(cert.fingerprint(hashes.SHA256()), cert)
        self.anchors = tuple(unique.values())
        self.source = source
        self._fingerprints = frozenset(unique)
        self._by_subject: dict[str, list[x509.Certificate]] = {}
        self._keys: set[tuple[str, bytes]] = set()
        for cert in self.anchors:
            self._by_subject.setdefault(_name_key(cert.subject), []).append(cert)
            self._keys.add((_name_key(cert.subject), _spki(cert)))

    def __len__(self) -> int:
        return len(self.anchors)

    def issuers_of(self, cert: x509.Certificate) -> list[x509.Certificate]:
        return list(self._by_subject.get(_name_key(cert.issuer), ()))

    def is_anchor(self, cert: x509.Certificate) -> bool:
        """The certificate itself is trusted: the same certificate, or the same name and key."""
        if cert.fingerprint(hashes.SHA256()) in self._fingerprints:
            return True
        return (_name_key(cert.subject), _spki(cert)) in self._keys

    @classmethod
    def from_pem(cls, data: bytes, source: str = "") -> TrustStore:
        return cls(_load_pems(data), source)

    @classmethod
    def load(cls, settings: Settings) -> TrustStore:
        """The configured bundle, else the system's CA file and directory, else certifi."""
        if settings.ca_bundle is not None:
            path = Path(settings.ca_bundle)
            return cls.from_pem(path.read_bytes(), str(path))
        paths = ssl.get_default_verify_paths()
        anchors: list[x509.Certificate] = []
        sources: list[str] = []
        if paths.cafile and Path(paths.cafile).is_file():
            anchors.extend(_load_pems(Path(paths.cafile).read_bytes()))
            sources.append(paths.cafile)
        if not anchors and paths.capath and Path(paths.capath).is_dir():
            for entry in sorted(Path(paths.capath).iterdir()):
                if entry.is_file() and entry.suffix in (".pem", ".crt", ".0"):
                    anchors.extend(_load_pems(entry.read_bytes()))
            sources.append(paths.capath)
        if not anchors:
            import certifi

            anchors.extend(_load_pems(Path(certifi.where()).read_bytes()))
            sources.append(certifi.where())
        return cls(anchors, ", ".join(sources))


def _load_pems(data: bytes) -> list[x509.Certificate]:
    try:
        return list(x509.load_pem_x509_certificates(data))
    except ValueError:
        pass
    certs: list[x509.Certificate] = []  # one bad entry must not lose the others
    for block in data.split(b"-----END CERTIFICATE-----"):
        start = block.find(b"-----BEGIN CERTIFICATE-----")
        if start < 0:
            continue
        try:
            certs.append(
                x509.load_pem_x509_certificate(block[start:] + b"-----END CERTIFICATE-----\n")
            )
        except ValueError:
            continue
    return certs


def _spki(cert: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives import serialization

    try:
        return cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except (UnsupportedAlgorithm, ValueError):
        return cert.fingerprint(hashes.SHA256())


async def trust_store(ctx: CheckContext) -> TrustStore:
    """The run's trust store, loaded once (off the event loop) and shared."""

    async def make() -> TrustStore:
        return await asyncio.to_thread(TrustStore.load, ctx.settings)

    return await ctx.memo.once("net.certs", "trust_store", make)


class TrustProblem(StrEnum):
    """Why a chain does not lead to a trusted root."""

    SELF_SIGNED = "self_signed"  # the leaf signs itself and is not in the trust store
    UNKNOWN_ROOT = "unknown_root"  # the chain ends in a root the trust store does not hold
    ISSUER_NOT_FOUND = "issuer_not_found"  # an issuer was neither sent nor trusted:
    # typically a missing intermediate (or a certificate from an unknown CA)
    BAD_SIGNATURE = "bad_signature"  # an issuer's signature does not verify
    NOT_A_CA = "not_a_ca"  # a certificate that is not a CA signed the next one
    NO_CERTIFICATE = "no_certificate"


@dataclass(frozen=True, slots=True)
class ChainVerdict:
    """Trust, on its own axis. `path` names the certificates from the leaf to the anchor."""

    trusted: bool
    problem: TrustProblem | None = None
    detail: str = ""
    path: tuple[str, ...] = ()

    def evidence(self) -> dict[str, Any]:
        data: dict[str, Any] = {"trusted": self.trusted}
        if self.problem is not None:
            data["problem"] = str(self.problem)
            data["reason"] = self.detail
        if self.path:
            data["path"] = list(self.path)
        return data


def signed_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Does `issuer`'s key verify `child`'s signature? Any hash, SHA-1 and MD5 included."""
    try:
        key = issuer.public_key()
        params = child.signature_algorithm_parameters
        data, signature = child.tbs_certificate_bytes, child.signature
        if isinstance(key, rsa.RSAPublicKey):
            assert isinstance(params, padding.PKCS1v15 | padding.PSS)
            hash_algorithm = child.signature_hash_algorithm
            assert hash_algorithm is not None
            key.verify(signature, data, params, hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            assert isinstance(params, ec.ECDSA)
            key.verify(signature, data, params)
        elif isinstance(key, dsa.DSAPublicKey):
            hash_algorithm = child.signature_hash_algorithm
            assert hash_algorithm is not None
            key.verify(signature, data, hash_algorithm)
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(signature, data)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError, AssertionError):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return cert.version is x509.Version.v1  # an old v1 CA has no extensions at all
    except ValueError:
        return False
    if not constraints.ca:
        return False
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    except ValueError:
        return False
    return bool(usage.key_cert_sign)


def _label(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or cert.fingerprint(hashes.SHA256()).hex()[:16]


def verify_chain(
    leaf: x509.Certificate | None, sent: Sequence[x509.Certificate], store: TrustStore
) -> ChainVerdict:
    """Does `leaf` chain to an anchor of `store`, through the certificates the server `sent`?

    Path building over every candidate issuer (a server may send extra or stale certificates,
    cross-signed intermediates, the root itself): depth-first, at most `MAX_CHAIN_DEPTH` deep,
    never through a certificate twice. Time, host name, key size and hash strength are not looked
    at here (see the module docstring).
    """
    if leaf is None:
        return ChainVerdict(False, TrustProblem.NO_CERTIFICATE, "the server sent no certificate")
    pool = [c for c in sent if c != leaf]
    failures: list[tuple[int, TrustProblem, str]] = []

    def build(cert: x509.Certificate, seen: tuple[x509.Certificate, ...]) -> list[str] | None:
        depth = len(seen)
        if store.is_anchor(cert):
            return [_label(cert)]
        if _same_name(cert.issuer, cert.subject) and signed_by(cert, cert):
            # a root that is not in the store: the end of this path, whatever else shares its name
            if depth == 0:
                failures.append(
                    (
                        depth,
                        TrustProblem.SELF_SIGNED,
                        "the certificate is self-signed (signed with its own key) and "
                        "not a trusted certificate",
                    )
                )
            else:
                failures.append(
                    (
                        depth,
                        TrustProblem.UNKNOWN_ROOT,
                        f"the chain ends in the root '{_label(cert)}', which is not in "
                        "the trust store (an unknown or private CA)",
                    )
                )
            return None
        candidates = [c for c in pool if _same_name(c.subject, cert.issuer)]
        anchors = store.issuers_of(cert)
        tried = False
        for candidate in [*anchors, *candidates]:
            if candidate in seen or candidate == cert:
                continue
            tried = True
            if not signed_by(cert, candidate):
                failures.append(
                    (
                        depth,
                        TrustProblem.BAD_SIGNATURE,
                        f"the signature on '{_label(cert)}' does not verify with the key of "
                        f"'{_label(candidate)}'",
                    )
                )
                continue
            if store.is_anchor(candidate):
                return [_label(cert), _label(candidate)]
            if not _is_ca(candidate):
                failures.append(
                    (
                        depth,
                        TrustProblem.NOT_A_CA,
                        f"'{_label(candidate)}' signed '{_label(cert)}' but is not a CA",
                    )
                )
                continue
            if depth + 1 >= MAX_CHAIN_DEPTH:
                continue
            rest = build(candidate, (*seen, cert))
            if rest is not None:
                return [_label(cert), *rest]
        if not tried:
            failures.append(
                (
                    depth,
                    TrustProblem.ISSUER_NOT_FOUND,
                    f"the issuer '{cert.issuer.rfc4514_string()}' of '{_label(cert)}' was "
                    "not sent by the server and is not a trusted root: an intermediate "
                    "certificate is missing from the server's configuration, or the "
                    "certificate comes from an unknown CA",
                )
            )
        return None

    path = build(leaf, ())
    if path is not None:
        return ChainVerdict(True, path=tuple(path))
    # the most telling failure: the one that got furthest along the chain
    depth, problem, detail = (
        max(failures, key=lambda f: f[0])
        if failures
        else (
            0,
            TrustProblem.ISSUER_NOT_FOUND,
            "no path to a trusted root",
        )
    )
    del depth
    return ChainVerdict(False, problem, detail)


def load_der_chain(blobs: Sequence[bytes]) -> tuple[x509.Certificate, ...]:
    """Parse DER certificates, skipping ones cryptography cannot read."""
    certs: list[x509.Certificate] = []
    for blob in blobs:
        try:
            certs.append(x509.load_der_x509_certificate(blob))
        except ValueError:
            continue
    return tuple(certs)
