"""Certificate judging without the network: host names, path building, keys and signatures."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from exposure.net.certs import (
    TrustProblem,
    TrustStore,
    describe,
    matches_host,
    signed_by,
    verify_chain,
)
from exposure.testbed.ca import ThrowawayCA, warm_keys

NOW = datetime.now(UTC)
KEY = ec.generate_private_key(ec.SECP256R1())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make(
    cn: str,
    *,
    issuer: tuple[str, object] | None = None,
    key: object = KEY,
    sans: list[x509.GeneralName] | None = None,
    ca: bool = False,
) -> x509.Certificate:
    issuer_name, issuer_key = issuer if issuer else (cn, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(issuer_name))
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    algorithm = None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(issuer_key, algorithm)  # type: ignore[arg-type]


def dns(*names: str) -> list[x509.GeneralName]:
    return [x509.DNSName(n) for n in names]


@pytest.mark.parametrize(
    ("pattern", "host", "ok"),
    [
        ("www.bakker.nl", "www.bakker.nl", True),
        ("WWW.Bakker.NL", "www.bakker.nl", True),
        ("www.bakker.nl", "www.bakker.nl.", True),
        ("*.bakker.nl", "www.bakker.nl", True),
        ("*.bakker.nl", "bakker.nl", False),
        ("*.bakker.nl", "a.b.bakker.nl", False),
        ("w*.bakker.nl", "www.bakker.nl", False),
        ("*.nl", "bakker.nl", False),
        ("www.*.nl", "www.bakker.nl", False),
        ("bakker.nl", "www.bakker.nl", False),
        ("xn--bcker-gra.nl", "xn--bcker-gra.nl", True),
    ],
)
def test_host_name_matching(pattern: str, host: str, ok: bool):
    assert matches_host(make("leaf", sans=dns(pattern)), host) is ok


def test_ip_sans_and_no_san():
    cert = make("leaf", sans=[x509.IPAddress(ipaddress.ip_address("192.0.2.7"))])
    assert matches_host(cert, "192.0.2.7")
    assert not matches_host(cert, "192.0.2.8")
    assert not matches_host(make("www.bakker.nl"), "www.bakker.nl")  # CN alone never counts


class Pki:
    """A root, an intermediate and a leaf, plus the odd ones path building must handle."""

    def __init__(self) -> None:
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.inter_key = ec.generate_private_key(ec.SECP256R1())
        self.leaf_key = ec.generate_private_key(ec.SECP256R1())
        self.root = make("Root", key=self.root_key, ca=True)
        self.inter = make("Inter", issuer=("Root", self.root_key), key=self.inter_key, ca=True)
        self.leaf = make(
            "leaf", issuer=("Inter", self.inter_key), key=self.leaf_key, sans=dns("a.test")
        )
        self.store = TrustStore([self.root])


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def test_a_good_chain_with_and_without_the_root_sent(pki: Pki):
    verdict = verify_chain(pki.leaf, [pki.leaf, pki.inter], pki.store)
    assert verdict.trusted and verdict.path == ("CN=leaf", "CN=Inter", "CN=Root")
    assert verify_chain(pki.leaf, [pki.leaf, pki.inter, pki.root], pki.store).trusted
    # a server that sends the chain in the wrong order, or extra junk
    junk = make("junk")
    assert verify_chain(pki.leaf, [pki.leaf, junk, pki.root, pki.inter], pki.store).trusted


def test_missing_intermediate(pki: Pki):
    verdict = verify_chain(pki.leaf, [pki.leaf], pki.store)
    assert not verdict.trusted and verdict.problem is TrustProblem.ISSUER_NOT_FOUND
    assert "CN=Inter" in verdict.detail


def test_self_signed_and_unknown_root(pki: Pki):
    selfsigned = make("a.test", sans=dns("a.test"))
    assert verify_chain(selfsigned, [selfsigned], pki.store).problem is TrustProblem.SELF_SIGNED
    other = Pki()
    verdict = verify_chain(other.leaf, [other.leaf, other.inter, other.root], pki.store)
    assert verdict.problem is TrustProblem.UNKNOWN_ROOT and "CN=Root" in verdict.detail


def test_a_trusted_self_signed_certificate_is_trusted():
    selfsigned = make("a.test", sans=dns("a.test"))
    assert verify_chain(selfsigned, [selfsigned], TrustStore([selfsigned])).trusted


def test_forged_intermediate_and_a_leaf_acting_as_ca(pki: Pki):
    forger = ec.generate_private_key(ec.SECP256R1())
    forged = make("Inter", issuer=("Root", forger), key=pki.inter_key, ca=True)
    verdict = verify_chain(pki.leaf, [pki.leaf, forged], pki.store)
    assert verdict.problem is TrustProblem.BAD_SIGNATURE
    # a leaf (CA:FALSE) from the trusted intermediate that signs another leaf
    sub_key = ec.generate_private_key(ec.SECP256R1())
    sub = make("Sub", issuer=("Inter", pki.inter_key), key=sub_key, ca=False)
    grandchild = make("b.test", issuer=("Sub", sub_key), sans=dns("b.test"))
    verdict = verify_chain(grandchild, [grandchild, sub, pki.inter], pki.store)
    assert verdict.problem is TrustProblem.NOT_A_CA


def test_a_cross_signed_path_is_found(pki: Pki):
    """The server sends an intermediate cross-signed by an untrusted root first."""
    other = Pki()
    cross = make("Inter", issuer=("Root", other.root_key), key=pki.inter_key, ca=True)
    assert verify_chain(pki.leaf, [pki.leaf, cross, pki.inter], pki.store).trusted


def test_path_building_ignores_time_host_and_strength():
    """Trust is its own axis: expired, wrong-host, RSA-1024 and SHA-1 chains are trusted."""
    warm_keys()
    ca = ThrowawayCA()
    store = TrustStore.from_pem(ca.bundle_pem)
    for defect in ("expired", "not_yet_valid", "wrong_host", "weak_key", "sha1"):
        chain = x509.load_pem_x509_certificates(ca.issue(["a.test"], defect).chain_pem)
        assert verify_chain(chain[0], chain, store).trusted, defect
    ca.cleanup()


def test_agrees_with_cryptography_where_cryptography_can_judge():
    """cryptography's verifier (webpki rules) as a second opinion on the plain cases."""
    warm_keys()
    ca = ThrowawayCA()
    ours = TrustStore.from_pem(ca.bundle_pem)
    theirs = (
        PolicyBuilder()
        .store(Store([ca.root]))
        .time(NOW)
        .build_server_verifier(x509.DNSName("a.test"))
    )
    for defect in ("valid", "ec", "self_signed", "unknown_ca", "missing_intermediate"):
        chain = x509.load_pem_x509_certificates(ca.issue(["a.test"], defect).chain_pem)
        try:
            theirs.verify(chain[0], chain[1:])
            agreed = True
        except VerificationError:
            agreed = False
        assert verify_chain(chain[0], chain, ours).trusted is agreed, defect
    ca.cleanup()


def test_signed_by_accepts_sha1_and_ed25519():
    warm_keys()
    ca = ThrowawayCA()
    sha1 = ca.issue(["a.test"], "sha1").certificate
    assert signed_by(sha1, ca.intermediate)
    assert not signed_by(sha1, ca.root)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    ed = make("ed.test", key=ed_key)
    assert signed_by(ed, ed)
    ca.cleanup()


def test_describe_keys_and_signatures():
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    weak = make("w", key=rsa_key, issuer=("Root", KEY))
    info = describe(weak)
    assert (info.key_type, info.key_bits, info.weak_key) == ("RSA", 1024, True)
    assert info.signature_hash == "sha256" and not info.weak_signature
    small_ec = make("e", key=ec.generate_private_key(ec.SECP192R1()), issuer=("Root", KEY))
    assert describe(small_ec).weak_key
    good_ec = describe(make("g"))
    assert good_ec.key == "EC-256" and not good_ec.weak_key
    ed = describe(make("ed", key=ed25519.Ed25519PrivateKey.generate()))
    assert ed.key_type == "Ed25519" and ed.signature_hash is None and not ed.weak_signature


def test_validity_axes():
    info = describe(make("x"))
    assert not info.expired(NOW) and not info.not_yet_valid(NOW)
    assert not info.expiring(NOW)  # 30 days left
    assert info.expiring(NOW + timedelta(days=20))
    assert info.expired(NOW + timedelta(days=31)) and not info.expiring(NOW + timedelta(days=31))
    assert info.not_yet_valid(NOW - timedelta(days=2))
    assert info.days_left(NOW) == 29


def test_trust_store_loading(tmp_path):
    warm_keys()
    ca = ThrowawayCA()
    pem = ca.root_pem + b"-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n"
    store = TrustStore.from_pem(pem + ca.intermediate_pem)
    assert len(store) == 2  # the broken entry is skipped, the others kept
    assert store.is_anchor(ca.root)
    ca.cleanup()
