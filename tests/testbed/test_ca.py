"""The throw-away CA: every defect is really there, in the certificate and over a real handshake."""

from __future__ import annotations

import asyncio
import ssl
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from exposure.testbed.ca import (
    WRONG_HOST_NAME,
    CertDefect,
    CertSpec,
    ThrowawayCA,
    TlsVersions,
)

NAMES = ["haven.test", "www.haven.test"]


@pytest.fixture(scope="module")
def ca() -> Iterator[ThrowawayCA]:
    authority = ThrowawayCA()
    authority.write_bundle()
    yield authority
    authority.cleanup()


def chain_of(pem: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem)


def sans(cert: x509.Certificate) -> list[str]:
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    return ext.value.get_values_for_type(x509.DNSName)


def test_bundle_holds_the_root_only(ca: ThrowawayCA) -> None:
    certs = chain_of(ca.bundle_path.read_bytes())
    assert len(certs) == 1
    root = certs[0]
    assert root.subject == root.issuer
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_valid_leaf_is_served_with_the_intermediate(ca: ThrowawayCA) -> None:
    issued = ca.issue(NAMES)
    leaf, intermediate = chain_of(issued.chain_pem)
    assert sans(leaf) == NAMES
    assert leaf.issuer == intermediate.subject
    assert intermediate.issuer == ca.root.subject
    now = datetime.now(UTC)
    assert leaf.not_valid_before_utc < now < leaf.not_valid_after_utc
    assert isinstance(leaf.public_key(), rsa.RSAPublicKey) and leaf.public_key().key_size == 2048
    assert isinstance(leaf.signature_hash_algorithm, hashes.SHA256)


def test_validity_defects(ca: ThrowawayCA) -> None:
    now = datetime.now(UTC)
    expired = ca.issue(NAMES, "expired").certificate
    assert expired.not_valid_after_utc < now
    future = ca.issue(NAMES, "not_yet_valid").certificate
    assert future.not_valid_before_utc > now
    expiring = ca.issue(NAMES, CertSpec(CertDefect.EXPIRING, days=5)).certificate
    left = (expiring.not_valid_after_utc - now).total_seconds() / 86400
    assert 4.9 < left <= 5.0
    assert CertSpec.of("expiring:3") == CertSpec(CertDefect.EXPIRING, 3)


def test_name_and_issuer_defects(ca: ThrowawayCA) -> None:
    wrong = ca.issue(NAMES, "wrong_host").certificate
    assert sans(wrong) == [WRONG_HOST_NAME]
    self_signed = chain_of(ca.issue(NAMES, "self_signed").chain_pem)
    assert len(self_signed) == 1 and self_signed[0].issuer == self_signed[0].subject
    unknown = chain_of(ca.issue(NAMES, "unknown_ca").chain_pem)
    assert len(unknown) == 1 and unknown[0].issuer not in (ca.intermediate.subject, ca.root.subject)
    missing = chain_of(ca.issue(NAMES, "missing_intermediate").chain_pem)
    assert len(missing) == 1 and missing[0].issuer == ca.intermediate.subject


def test_key_and_signature_defects(ca: ThrowawayCA) -> None:
    weak = ca.issue(NAMES, "weak_key").certificate
    assert isinstance(weak.public_key(), rsa.RSAPublicKey) and weak.public_key().key_size == 1024
    assert weak.issuer == ca.intermediate.subject
    sha1 = ca.issue(NAMES, "sha1").certificate
    assert isinstance(sha1.signature_hash_algorithm, hashes.SHA1)
    assert sha1.issuer == ca.intermediate.subject
    # the re-signed SHA-1 certificate really verifies against the intermediate's key
    issuer_key = ca.intermediate.public_key()
    assert isinstance(issuer_key, rsa.RSAPublicKey)
    issuer_key.verify(sha1.signature, sha1.tbs_certificate_bytes, padding.PKCS1v15(), hashes.SHA1())
    ec_leaf = ca.issue(NAMES, "ec").certificate
    key = ec_leaf.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"


def test_keys_are_cached_so_issuing_is_fast(ca: ThrowawayCA) -> None:
    start = time.perf_counter()
    leaves = [ca.issue([f"host{i}.test"]) for i in range(200)]
    assert time.perf_counter() - start < 2.0
    keys = {leaf.key_pem for leaf in leaves}
    assert len(keys) == 1
    other = ThrowawayCA()
    try:
        assert other.root.subject != ca.root.subject  # two testbeds never trust each other
    finally:
        other.cleanup()


def test_tls_versions_parse() -> None:
    assert TlsVersions.of("1.2+") == TlsVersions()
    assert TlsVersions.of("1.0-1.1") == TlsVersions(ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
    assert TlsVersions.of("legacy").legacy
    assert not TlsVersions.of("1.3").legacy
    assert TlsVersions.of("1.0-1.3").maximum == ssl.TLSVersion.TLSv1_3
    with pytest.raises(ValueError):
        TlsVersions.of("2.0")


# --- over a real handshake -----------------------------------------------------------------------


def client_context(bundle: Path, *, seclevel0: bool = False) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(bundle))
    if seclevel0:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


async def handshake(server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext, host: str) -> str:
    """'ok' or the verification error text."""

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(on_client, "127.0.54.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        _, writer = await asyncio.open_connection(
            "127.0.54.1", port, ssl=client_ctx, server_hostname=host
        )
        writer.close()
        return "ok"
    except ssl.SSLCertVerificationError as exc:
        return exc.verify_message
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    ("defect", "expected"),
    [
        ("valid", "ok"),
        ("ec", "ok"),
        ("expiring:5", "ok"),
        ("expired", "certificate has expired"),
        ("not_yet_valid", "certificate is not yet valid"),
        ("wrong_host", "Hostname mismatch"),
        ("self_signed", "self-signed certificate"),
        ("unknown_ca", "unable to get local issuer certificate"),
        ("missing_intermediate", "unable to get local issuer certificate"),
        ("weak_key", "EE certificate key too weak"),
        ("sha1", "CA signature digest algorithm too weak"),
    ],
)
async def test_defects_over_a_handshake(ca: ThrowawayCA, defect: str, expected: str) -> None:
    server_ctx = ca.server_context(NAMES, defect)
    result = await handshake(server_ctx, client_context(ca.bundle_path), "www.haven.test")
    assert expected in result


@pytest.mark.parametrize("defect", ["weak_key", "sha1"])
async def test_weak_certificates_chain_to_the_root_at_seclevel_0(
    ca: ThrowawayCA, defect: str
) -> None:
    """Weak key and SHA-1 are judged apart from trust: at security level 0 the chain is fine."""
    server_ctx = ca.server_context(NAMES, defect)
    client = client_context(ca.bundle_path, seclevel0=True)
    assert await handshake(server_ctx, client, "haven.test") == "ok"


async def test_legacy_versions_need_seclevel_0_and_are_enforced(ca: ThrowawayCA) -> None:
    legacy = ca.server_context(NAMES, "valid", "1.0-1.1")
    client = client_context(ca.bundle_path, seclevel0=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client.minimum_version = ssl.TLSVersion.TLSv1
        client.maximum_version = ssl.TLSVersion.TLSv1
    assert await handshake(legacy, client, "haven.test") == "ok"
    modern_client = client_context(ca.bundle_path)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await handshake(legacy, modern_client, "haven.test")
