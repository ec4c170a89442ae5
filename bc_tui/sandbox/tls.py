"""Certificates for ``bc-tui sandbox serve --tls``: a local CA and a loopback server certificate.

Kept in ``<data folder>/tls/`` and reused across runs, so a client told to trust
``ca.pem`` once keeps trusting the sandbox. The CA is self-signed; the server certificate it
signs names ``localhost``, ``127.0.0.1`` and ``::1``. Both are made again when a file is
missing, unreadable, or within a day of expiring. A separate CA (rather than one self-signed
server certificate) is what strict TLS verification accepts as a trust anchor.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: How long the generated certificates are valid (browsers cap server certificates at 398 days).
VALIDITY = dt.timedelta(days=397)


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the CA certificate (what clients trust) and the server's certificate and key."""

    ca_cert: Path
    server_cert: Path
    server_key: Path


def _files(folder: Path) -> TlsFiles:
    return TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")


def _still_good(files: TlsFiles) -> bool:
    try:
        certs = [x509.load_pem_x509_certificate(p.read_bytes()) for p in (files.ca_cert, files.server_cert)]
        serialization.load_pem_private_key(files.server_key.read_bytes(), password=None)
    except (OSError, ValueError):
        return False
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    return all(cert.not_valid_after_utc > soon for cert in certs)


def _write(path: Path, data: bytes, private: bool = False) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    """Digital signatures for both certificates; signing certificates and CRLs for the CA only."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def _generate(files: TlsFiles) -> None:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # tolerate small clock skew
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bc-tui sandbox local CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    _write(
        files.server_key,
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        private=True,
    )
    _write(files.server_cert, cert.public_bytes(pem))
    _write(files.ca_cert, ca_cert.public_bytes(pem))


def ensure_certificates(data_dir: Path) -> TlsFiles:
    """The sandbox's TLS files under ``data_dir/tls``, made now if missing or stale."""
    folder = data_dir / "tls"
    folder.mkdir(parents=True, exist_ok=True)
    files = _files(folder)
    if not _still_good(files):
        _generate(files)
    return files
