"""Signing credentials for C2PA manifests: the user's own chain and key, or a local test chain.

C2PA validators only accept a signing certificate that looks like one: issued by a separate CA
(not self-signed), ``digitalSignature`` key usage, an extended key usage from the C2PA list, not a
CA itself; the chain (leaf first, then the CA) is what c2pa-python's signer takes. The test chain
made here meets those rules and says NOT TRUSTED in every name, so nobody mistakes it for an
identity: files signed with it validate as intact manifests whose signer is on no trust list.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigurationError, InputError

CERT_ENV = "ARTLINEAGE_STAMP_CERT"      # PEM chain: signing certificate first, then its CA(s)
KEY_ENV = "ARTLINEAGE_STAMP_KEY"        # PEM private key of the signing certificate
TSA_ENV = "ARTLINEAGE_STAMP_TSA_URL"    # optional RFC 3161 time-stamp authority
TEST_MARK = "NOT TRUSTED - artlineage local test certificate"
MAX_PEM_BYTES = 1024 * 1024
ALGORITHMS = ("es256", "es384", "es512", "ps256", "ps384", "ps512", "ed25519")


@dataclass(frozen=True)
class SigningCredentials:
    """A PEM certificate chain (leaf first) and the leaf's private key, for C2PA signing."""

    chain_pem: bytes
    key_pem: bytes
    alg: str = "es256"
    tsa_url: str | None = None

    def __post_init__(self):
        if self.alg not in ALGORITHMS:
            raise ConfigurationError(f"signing algorithm {self.alg!r}: expected one of {', '.join(ALGORITHMS)}")
        if b"-----BEGIN CERTIFICATE-----" not in self.chain_pem:
            raise InputError("signing certificate chain: no PEM certificate found")
        if b"PRIVATE KEY-----" not in self.key_pem:
            raise InputError("signing key: no PEM private key found")

    @property
    def is_test_chain(self) -> bool:
        return TEST_MARK.encode() in self.chain_pem or _subject_has_test_mark(self.chain_pem)

    @classmethod
    def from_files(cls, cert: str | os.PathLike[str], key: str | os.PathLike[str], alg: str | None = None,
                   tsa_url: str | None = None) -> "SigningCredentials":
        chain, key_pem = _read_pem(cert, "certificate chain"), _read_pem(key, "private key")
        return cls(chain, key_pem, alg or guess_algorithm(key_pem), tsa_url)

    @classmethod
    def from_env(cls) -> "SigningCredentials | None":
        """From the settings ARTLINEAGE_STAMP_CERT / ARTLINEAGE_STAMP_KEY (paths) and
        ARTLINEAGE_STAMP_TSA_URL, or None when neither path is set."""
        from ..settings import current

        settings = current()
        cert, key = settings.stamp_cert, settings.stamp_key
        if not cert and not key:
            return None
        if not (cert and key):
            raise ConfigurationError(f"set both {CERT_ENV} and {KEY_ENV}")
        return cls.from_files(cert, key, tsa_url=settings.stamp_tsa_url or None)


def read_limited(path: str | os.PathLike[str], max_bytes: int, what: str = "file") -> bytes:
    """A file's bytes, refused (InputError naming it) when missing, unreadable or over ``max_bytes``."""
    p = Path(path)
    try:
        if p.stat().st_size > max_bytes:
            raise InputError(f"{what} {p}: larger than {max_bytes} bytes")
        return p.read_bytes()
    except OSError as exc:
        raise InputError(f"{what} {p}: {exc.strerror or exc}") from exc


def _read_pem(path: str | os.PathLike[str], what: str) -> bytes:
    return read_limited(path, MAX_PEM_BYTES, what)


def _subject_has_test_mark(chain_pem: bytes) -> bool:
    try:
        from cryptography import x509
    except ImportError:
        return False
    try:
        leaf = x509.load_pem_x509_certificates(chain_pem)[0]
    except ValueError:
        return False
    return "NOT TRUSTED" in leaf.subject.rfc4514_string()


def guess_algorithm(key_pem: bytes) -> str:
    """The C2PA algorithm for a key (EC P-256/384/521 -> ES256/384/512, RSA -> PS256, Ed25519)."""
    try:
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
    except ImportError:
        return "es256"
    try:
        key = load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(f"signing key: {exc}") from exc
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {256: "es256", 384: "es384", 521: "es512"}.get(key.curve.key_size, "es256")
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise InputError("signing key: unsupported key type (use EC P-256/384/521, RSA or Ed25519)")


@dataclass(frozen=True)
class TestChainFiles:
    chain: Path       # leaf then CA, PEM
    key: Path         # leaf key, PKCS#8 PEM
    ca: Path          # the root, to use as a trust anchor in your own tests only


def make_test_chain(directory: str | os.PathLike[str], *, days: int = 365) -> TestChainFiles:
    """Write a local test CA and an ES256 signing certificate into ``directory`` (chain.pem,
    key.pem, ca.pem). Every subject says NOT TRUSTED: for trials, never for publishing."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError as exc:   # pragma: no cover - cryptography is in the stamp extra
        raise ConfigurationError("making a test certificate needs 'cryptography' (pip install artlineage[stamp])") \
            from exc

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, TEST_MARK)])

    def usage(signing: bool) -> x509.KeyUsage:
        return x509.KeyUsage(digital_signature=signing, content_commitment=False, key_encipherment=False,
                             data_encipherment=False, key_agreement=False, key_cert_sign=not signing,
                             crl_sign=not signing, encipher_only=False, decipher_only=False)

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("NOT TRUSTED test root")).issuer_name(name("NOT TRUSTED test root"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(usage(False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(name("NOT TRUSTED test signer")).issuer_name(ca.subject)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage(True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    files = TestChainFiles(out / "chain.pem", out / "key.pem", out / "ca.pem")
    files.chain.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    files.key.write_bytes(leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(files.key, 0o600)
    files.ca.write_bytes(ca.public_bytes(pem))
    return files
