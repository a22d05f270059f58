"""Make C2PA-signed test images in code: a throwaway ES256 CA chain and c2pa-python's Builder.

Other test modules reuse this (``from tests.signals._c2pa_fixtures import sign_image``).

Why a CA + leaf and not one self-signed certificate: c2pa-rs refuses to sign with a
certificate that does not look like a C2PA signing credential. The leaf must be issued by a
separate CA (a self-signed leaf is rejected), carry ``digitalSignature`` key usage, an
extended key usage from the C2PA list (``emailProtection`` here; ``documentSigning`` also
works), not be a CA itself, and the chain (leaf first, then the CA) goes in ``sign_cert``.
Files signed this way validate as ``Valid`` with ``signingCredential.untrusted`` (the test CA
is on no trust list); pass :data:`TestSigner.ca_pem` as a trust anchor to get ``Trusted``.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

from artlineage.signals.c2pa import ALLOWED_SIGNING_EKUS

IPTC_DST = "http://cv.iptc.org/newscodes/digitalsourcetype/"
MIME_OF = {"JPEG": "image/jpeg", "JPG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp",
           "TIFF": "image/tiff", "GIF": "image/gif"}


@dataclass(frozen=True)
class TestSigner:
    """PEM material for one throwaway signing chain (make a fresh c2pa.Signer per signing)."""

    __test__ = False  # not a pytest test class

    chain_pem: bytes  # leaf certificate then CA certificate
    key_pem: bytes  # leaf private key, PKCS#8
    ca_pem: bytes  # the root, for use as a trust anchor

    def signer(self) -> c2pa.Signer:
        info = c2pa.C2paSignerInfo(alg=c2pa.C2paSigningAlg.ES256, sign_cert=self.chain_pem,
                                   private_key=self.key_pem, ta_url=None)
        return c2pa.Signer.from_info(info)


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "artlineage tests"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
    ])


def _key_usage(*, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=signing, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=not signing,
                         crl_sign=not signing, encipher_only=False, decipher_only=False)


EMAIL_PROTECTION_EKU = ExtendedKeyUsageOID.EMAIL_PROTECTION.dotted_string
C2PA_CLAIM_SIGNING_EKU = "1.3.6.1.4.1.62558.2.1"  # c2pa-kp-claimSigning (the C2PA trust list's own)


@lru_cache(maxsize=4)
def make_test_signer(eku: str = EMAIL_PROTECTION_EKU) -> TestSigner:
    """A test root CA and an ES256 leaf with the extensions c2pa-rs requires (cached per process).

    ``eku`` is the leaf's extended key usage (emailProtection by default).
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder()
          .subject_name(_name("artlineage test root")).issuer_name(_name("artlineage test root"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(_key_usage(signing=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(_name("artlineage test signer")).issuer_name(ca.subject)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(signing=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier(eku)]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return TestSigner(
        chain_pem=leaf.public_bytes(pem) + ca.public_bytes(pem),
        key_pem=leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        ca_pem=ca.public_bytes(pem),
    )


def plain_image(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), color=(200, 40, 40)) -> bytes:
    """A small unsigned image (a gradient, so pixel tampering changes real data)."""
    im = Image.new("RGB", size, color)
    for x in range(size[0]):
        im.putpixel((x, x % size[1]), (x * 4 % 256, 255 - x, 90))
    buf = io.BytesIO()
    im.save(buf, fmt)
    return buf.getvalue()


def manifest_with_actions(*actions: dict[str, Any], generator: str = "artlineage-tests",
                          title: str = "test image", extra_assertions: list[dict[str, Any]] | None = None
                          ) -> dict[str, Any]:
    """A manifest definition: one ``c2pa.actions`` assertion plus any extra assertions."""
    assertions: list[dict[str, Any]] = [{"label": "c2pa.actions", "data": {"actions": list(actions)}}]
    assertions += extra_assertions or []
    return {"claim_generator_info": [{"name": generator, "version": "1.0"}], "title": title,
            "assertions": assertions}


def created_action(source_type: str) -> dict[str, Any]:
    """A ``c2pa.created`` action; ``source_type`` is a bare IPTC name or a full URI."""
    uri = source_type if "/" in source_type else IPTC_DST + source_type
    return {"action": "c2pa.created", "digitalSourceType": uri}


def training_mining(assertion_label: str = "c2pa.training-mining", **uses: str) -> dict[str, Any]:
    """A training/data-mining assertion, e.g. ``training_mining(ai_training="notAllowed")``."""
    prefix = assertion_label.split(".", 1)[0]
    return {"label": assertion_label,
            "data": {"entries": {f"{prefix}.{name}": {"use": use} for name, use in uses.items()}}}


def sign_image(image_bytes: bytes, fmt: str, manifest_dict: dict[str, Any], *,
               signer: TestSigner | None = None, thumbnail: bool = False) -> bytes:
    """Embed and sign ``manifest_dict`` into an image (``fmt`` "JPEG"/"PNG"/... or a MIME type).

    Thumbnails are off by default: they cost time and bytes and no test needs them.
    """
    mime = fmt if "/" in fmt else MIME_OF[fmt.upper()]
    signer = signer or make_test_signer()
    # The C2PA profile's EKU list (artlineage reads with it too), so c2pa-kp-claimSigning leaves sign.
    context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": thumbnail}},
                                      "trust": {"trust_config": ALLOWED_SIGNING_EKUS}})
    out = io.BytesIO()
    with c2pa.Builder(manifest_dict, context=context) as builder, signer.signer() as native_signer:
        builder.sign(native_signer, mime, io.BytesIO(image_bytes), out)
    return out.getvalue()
