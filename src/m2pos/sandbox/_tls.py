"""Self-signed TLS certificates for sandboxes served over HTTPS (as a Lightspeed OnSite server is).

The certificate is made at start, like the one an OnSite server generates for itself, and is valid
for ``localhost``, ``127.0.0.1``, ``::1`` and any extra host names given. Clients must skip
verification (or trust this file), exactly as they must with a real OnSite server.
"""

from __future__ import annotations

import datetime
import ipaddress
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def write_self_signed_certificate(
    directory: Path, hosts: Sequence[str] = (), common_name: str = "m2pos sandbox"
) -> tuple[Path, Path]:
    """Write ``cert.pem`` and ``key.pem`` (EC P-256, valid for a year) into ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    names = list(dict.fromkeys((*DEFAULT_HOSTS, *hosts)))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([_san(h) for h in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@contextmanager
def temporary_certificate(hosts: Sequence[str] = ()) -> Iterator[tuple[Path, Path]]:
    """``(certfile, keyfile)`` in a temporary directory removed when the block exits."""
    with tempfile.TemporaryDirectory(prefix="m2pos-tls-") as tmp:
        yield write_self_signed_certificate(Path(tmp), hosts)
