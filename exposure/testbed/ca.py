"""A throw-away certificate authority for the testbed, and leaf certificates of every defect.

Why `cryptography` and not `trustme`: trustme only issues good certificates. The scanner's TLS
check must be proven against expired, not-yet-valid, wrong-host, self-signed, unknown-CA,
missing-intermediate, RSA-1024 and SHA-1 certificates, each produced here on purpose.

The trust store the scanner is given (`ca_bundle`) holds only this CA's root; valid leaves are
issued by an intermediate and served with it, as real sites do. Key generation is the slow part
(tens of milliseconds per RSA-2048 key), so keys are generated once per process and reused by
every CA instance and every leaf of the same kind; a testbed with hundreds of sites then costs
one signature (well under a millisecond) per host. Every CA instance still has its own root and
intermediate names, so two testbeds in one process never trust each other's certificates.

SHA-1: `cryptography` refuses to sign certificates with SHA-1, so such a leaf is signed with
SHA-256 first and its to-be-signed part re-signed with SHA-1 (the two algorithm identifiers have
the same DER length, so only the OID byte changes).
"""

from __future__ import annotations

import os
import secrets
import ssl
import tempfile
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class CertDefect(StrEnum):
    VALID = "valid"  # issued by the intermediate, served with it
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRING = "expiring"  # valid, expires in `CertSpec.days` days
    WRONG_HOST = "wrong_host"  # SAN for another name only
    SELF_SIGNED = "self_signed"
    UNKNOWN_CA = "unknown_ca"  # issued by a CA that is not in the bundle
    MISSING_INTERMEDIATE = "missing_intermediate"  # the server sends the leaf only
    WEAK_KEY = "weak_key"  # RSA-1024 from the trusted intermediate
    SHA1 = "sha1"  # sha1WithRSAEncryption from the trusted intermediate
    EC = "ec"  # EC P-256 leaf, valid
    HUGE = "huge"  # valid, with 5,000 more names (~110 KB of DER), over OpenSSL's default limit


#: Names added to a HUGE certificate: with the host's own, 5,002 or so, about 110 KB of DER,
#: beyond OpenSSL's default limit of 100 KB on the certificate message.
HUGE_EXTRA_NAMES = 5000

#: The host name a WRONG_HOST certificate is made out to (a shared hosting panel, typically).
WRONG_HOST_NAME = "shared-hosting.example"


@dataclass(frozen=True, slots=True)
class CertSpec:
    """Which certificate a host serves. `days` is the remaining lifetime for EXPIRING."""

    defect: CertDefect = CertDefect.VALID
    days: int = 7

    @classmethod
    def of(cls, value: CertSpec | CertDefect | str) -> CertSpec:
        """Accept `CertSpec`, a `CertDefect`, or text like `"expired"` or `"expiring:5"`."""
        if isinstance(value, CertSpec):
            return value
        if isinstance(value, CertDefect):
            return cls(value)
        name, _, days = value.partition(":")
        defect = CertDefect(name.strip().lower().replace("-", "_"))
        return cls(defect, int(days)) if days else cls(defect)

    @property
    def weak(self) -> bool:
        """Needs OpenSSL security level 0 to be loaded and served at all."""
        return self.defect in (CertDefect.WEAK_KEY, CertDefect.SHA1)


@dataclass(frozen=True, slots=True)
class TlsVersions:
    """The protocol versions a server accepts, e.g. `TlsVersions.of("1.0-1.1")`."""

    minimum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    maximum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3

    @classmethod
    def of(cls, value: TlsVersions | str) -> TlsVersions:
        """`"1.2+"`, `"1.3"`, `"1.0-1.1"`, `"1.0-1.3"`, `"legacy"` (= 1.0-1.1), `"mixed"`."""
        if isinstance(value, TlsVersions):
            return value
        text = {"modern": "1.2+", "legacy": "1.0-1.1", "mixed": "1.0-1.3"}.get(value, value)
        if text.endswith("+"):
            return cls(_version(text[:-1]), ssl.TLSVersion.TLSv1_3)
        low, _, high = text.partition("-")
        return cls(_version(low), _version(high or low))

    @property
    def legacy(self) -> bool:
        """Accepts TLS 1.0 or 1.1 (OpenSSL 3 then needs security level 0)."""
        return self.minimum in _LEGACY


_LEGACY = frozenset({ssl.TLSVersion.SSLv3, ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1})


def _version(text: str) -> ssl.TLSVersion:
    versions = {
        "1.0": ssl.TLSVersion.TLSv1,
        "1": ssl.TLSVersion.TLSv1,
        "1.1": ssl.TLSVersion.TLSv1_1,
        "1.2": ssl.TLSVersion.TLSv1_2,
        "1.3": ssl.TLSVersion.TLSv1_3,
    }
    try:
        return versions[text.strip()]
    except KeyError:
        raise ValueError(f"unknown TLS version {text!r} (use 1.0, 1.1, 1.2 or 1.3)") from None


# --- the process-wide key cache ------------------------------------------------------------------

_KEYS: dict[str, PrivateKey] = {}
_KEYS_LOCK = threading.Lock()
_KEY_KINDS = {
    "root": ("rsa", 2048),
    "intermediate": ("rsa", 2048),
    "unknown-ca": ("ec", 256),
    "leaf-rsa2048": ("rsa", 2048),
    "leaf-rsa1024": ("rsa", 1024),
    "leaf-ec": ("ec", 256),
}


def _key(slot: str) -> PrivateKey:
    """One key per slot per process: keys are the slow part, certificates are cheap."""
    with _KEYS_LOCK:
        key = _KEYS.get(slot)
        if key is None:
            kind, size = _KEY_KINDS[slot]
            if kind == "rsa":
                key = rsa.generate_private_key(public_exponent=65537, key_size=size)
            else:
                key = ec.generate_private_key(ec.SECP256R1())
            _KEYS[slot] = key
        return key


def warm_keys() -> None:
    """Generate every cached key now (call it in a thread before starting servers)."""
    for slot in _KEY_KINDS:
        _key(slot)


# --- issued certificates ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedCert:
    """A leaf and what a server sends with it.

    `chain_pem` is what the server presents: leaf + intermediate for a well-configured server,
    the leaf alone for MISSING_INTERMEDIATE, SELF_SIGNED and UNKNOWN_CA.
    """

    names: tuple[str, ...]
    spec: CertSpec
    cert_pem: bytes
    chain_pem: bytes
    key_pem: bytes
    not_before: datetime
    not_after: datetime

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)

    def write(self, directory: Path) -> Path:
        """Write chain and key to one PEM file for `SSLContext.load_cert_chain(path)`."""
        fd, name = tempfile.mkstemp(prefix="leaf-", suffix=".pem", dir=directory)
        with os.fdopen(fd, "wb") as fh:
            fh.write(self.chain_pem + self.key_pem)
        return Path(name)


def _name(common_name: str, org: str = "exposure testbed") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _ca_cert(
    subject: x509.Name,
    key: PrivateKey,
    issuer: x509.Name,
    issuer_key: PrivateKey,
    now: datetime,
    path_length: int | None,
) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=365))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )


def _resign_sha1(cert: x509.Certificate, issuer_key: rsa.RSAPrivateKey) -> x509.Certificate:
    """Turn a sha256WithRSAEncryption certificate into a sha1WithRSAEncryption one."""
    sha256_rsa = bytes.fromhex("06092a864886f70d01010b")
    sha1_rsa = bytes.fromhex("06092a864886f70d010105")
    tbs = cert.tbs_certificate_bytes
    assert tbs.count(sha256_rsa) == 1, "unexpected TBS layout"
    tbs = tbs.replace(sha256_rsa, sha1_rsa)
    signature = issuer_key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    algorithm = _der(0x30, sha1_rsa + b"\x05\x00")
    bitstring = _der(0x03, b"\x00" + signature)
    return x509.load_der_x509_certificate(_der(0x30, tbs + algorithm + bitstring))


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


class ThrowawayCA:
    """Root + intermediate, valid from a year ago for ten years; issues leaves of any defect.

    `directory` holds the bundle and the leaf files; a temporary one is made (and removed by
    `cleanup()`) when none is given. `now` fixes the clock the validity periods are built on.
    """

    def __init__(self, directory: Path | None = None, now: datetime | None = None) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if directory is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="exposure-ca-")
            directory = Path(self._tmp.name)
        self.directory = directory
        self.now = now or datetime.now(UTC)
        tag = secrets.token_hex(4)
        root_key, inter_key, unknown_key = _key("root"), _key("intermediate"), _key("unknown-ca")
        self.root_name = _name(f"exposure testbed root {tag}")
        self.intermediate_name = _name(f"exposure testbed issuing CA {tag}")
        self.unknown_name = _name(f"Untrusted Hosting CA {tag}", "untrusted")
        self.root = _ca_cert(self.root_name, root_key, self.root_name, root_key, self.now, None)
        self.intermediate = _ca_cert(
            self.intermediate_name, inter_key, self.root_name, root_key, self.now, 0
        )
        self.unknown_root = _ca_cert(
            self.unknown_name, unknown_key, self.unknown_name, unknown_key, self.now, None
        )
        self._bundle: Path | None = None

    @property
    def root_pem(self) -> bytes:
        return _pem(self.root)

    @property
    def intermediate_pem(self) -> bytes:
        return _pem(self.intermediate)

    @property
    def bundle_pem(self) -> bytes:
        """The trust store the scanner gets: the root only."""
        return self.root_pem

    def write_bundle(self, path: Path | None = None) -> Path:
        """Write the root to `path` (default `<directory>/ca-bundle.pem`) and return the path."""
        path = path or self.directory / "ca-bundle.pem"
        path.write_bytes(self.bundle_pem)
        self._bundle = path
        return path

    @property
    def bundle_path(self) -> Path:
        return self._bundle or self.write_bundle()

    def issue(
        self, names: Sequence[str], spec: CertSpec | CertDefect | str = CertSpec()
    ) -> IssuedCert:
        """A leaf for `names` (A-labels; IP addresses become IP SANs) with the given defect."""
        spec = CertSpec.of(spec)
        if not names:
            raise ValueError("a certificate needs at least one name")
        defect = spec.defect
        now = self.now
        not_before, not_after = now - timedelta(days=30), now + timedelta(days=90)
        if defect is CertDefect.EXPIRED:
            not_before, not_after = now - timedelta(days=120), now - timedelta(days=10)
        elif defect is CertDefect.NOT_YET_VALID:
            not_before, not_after = now + timedelta(days=10), now + timedelta(days=100)
        elif defect is CertDefect.EXPIRING:
            not_before, not_after = now - timedelta(days=80), now + timedelta(days=spec.days)

        key = _key("leaf-rsa2048")
        if defect is CertDefect.WEAK_KEY:
            key = _key("leaf-rsa1024")
        elif defect is CertDefect.EC:
            key = _key("leaf-ec")

        san_names = [WRONG_HOST_NAME] if defect is CertDefect.WRONG_HOST else list(names)
        if defect is CertDefect.HUGE:
            san_names += [f"n{i}.huge-{san_names[0]}" for i in range(HUGE_EXTRA_NAMES)]
        subject = _name(san_names[0])
        issuer_name, issuer_key = self.intermediate_name, _key("intermediate")
        if defect is CertDefect.SELF_SIGNED:
            issuer_name, issuer_key = subject, key
        elif defect is CertDefect.UNKNOWN_CA:
            issuer_name, issuer_key = self.unknown_name, _key("unknown-ca")

        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName(_sans(san_names)), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False,
            )
        )
        cert = builder.sign(issuer_key, hashes.SHA256())
        if defect is CertDefect.SHA1:
            assert isinstance(issuer_key, rsa.RSAPrivateKey)
            cert = _resign_sha1(cert, issuer_key)
        cert_pem = _pem(cert)
        leaf_only = defect in (
            CertDefect.MISSING_INTERMEDIATE,
            CertDefect.SELF_SIGNED,
            CertDefect.UNKNOWN_CA,
        )
        chain_pem = cert_pem if leaf_only else cert_pem + self.intermediate_pem
        return IssuedCert(
            names=tuple(names),
            spec=spec,
            cert_pem=cert_pem,
            chain_pem=chain_pem,
            key_pem=_key_pem(key),
            not_before=not_before,
            not_after=not_after,
        )

    def server_context(
        self,
        names: Sequence[str],
        spec: CertSpec | CertDefect | str = CertSpec(),
        versions: TlsVersions | str = TlsVersions(),
    ) -> ssl.SSLContext:
        """Issue a leaf and return a server context serving it (see `server_context`)."""
        return server_context(self.issue(names, spec), versions, self.directory)

    def cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def _sans(names: Sequence[str]) -> list[x509.GeneralName]:
    import ipaddress

    result: list[x509.GeneralName] = []
    for name in names:
        try:
            result.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            result.append(x509.DNSName(name.rstrip(".").lower()))
    return result


def server_context(
    issued: IssuedCert,
    versions: TlsVersions | str = TlsVersions(),
    directory: Path | None = None,
) -> ssl.SSLContext:
    """A server-side context that serves `issued` and accepts exactly `versions`.

    Legacy versions and weak certificates need OpenSSL security level 0 (OpenSSL 3 refuses
    TLS 1.0/1.1, RSA-1024 and SHA-1 otherwise), which is what a badly kept server amounts to.
    The PEM goes through a file because `load_cert_chain` only reads files; it is removed at once.
    """
    versions = TlsVersions.of(versions)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1/TLSv1_1 are deprecated
        ctx.minimum_version = versions.minimum
        ctx.maximum_version = versions.maximum
    if versions.legacy or issued.spec.weak:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    path = issued.write(directory or Path(tempfile.gettempdir()))
    try:
        ctx.load_cert_chain(path)
    finally:
        path.unlink(missing_ok=True)
    return ctx
