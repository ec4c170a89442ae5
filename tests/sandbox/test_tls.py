"""``bc-tui sandbox serve --tls``: https on loopback with a certificate kept in the data folder."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
from cryptography import x509


def test_serve_tls_serves_https_that_trusts_only_the_announced_ca(tmp_path: Path, serve_tls) -> None:
    with serve_tls(tmp_path) as info:
        assert info["bc_api"].startswith("https://127.0.0.1:") and info["dataverse_api"].startswith(
            "https://127.0.0.1:"
        )
        assert info["token_url"].startswith("https://") and info["dataverse_scope"].startswith("https://")
        ca = Path(info["ca_cert"])
        assert ca.is_file() and ca.parent == tmp_path / "tls"
        with httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), timeout=10) as http:
            token = (
                http.post(
                    info["token_url"],
                    data={
                        "grant_type": "client_credentials",
                        "client_id": info["client_id"],
                        "client_secret": info["client_secret"],
                        "scope": info["dataverse_scope"],
                    },
                )
                .raise_for_status()
                .json()["access_token"]
            )
            who = http.get(info["dataverse_api"] + "WhoAmI", headers={"Authorization": f"Bearer {token}"})
            assert who.status_code == 200 and who.json()["UserId"]
        # A client that does not trust the sandbox's CA refuses the connection: it is real TLS.
        empty = ssl.create_default_context()
        empty.load_verify_locations(cadata=_unrelated_ca())
        with httpx.Client(verify=empty, timeout=10) as stranger, pytest.raises(httpx.ConnectError):
            stranger.get(info["token_url"].rsplit("/oauth2/", 1)[0] + "/v2.0/.well-known/openid-configuration")
        first = ca.read_bytes()

    # The next run reuses the certificate, so a client keeps trusting it.
    with serve_tls(tmp_path) as info:
        assert Path(info["ca_cert"]).read_bytes() == first


def test_certificate_names_the_loopback_host_and_keeps_its_key_private(tmp_path: Path, serve_tls) -> None:
    with serve_tls(tmp_path) as info:
        folder = Path(info["ca_cert"]).parent
    server = x509.load_pem_x509_certificate((folder / "server.pem").read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    ca = x509.load_pem_x509_certificate(Path(info["ca_cert"]).read_bytes())
    assert server.issuer == ca.subject and ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert (folder / "server-key.pem").stat().st_mode & 0o077 == 0


def _unrelated_ca() -> str:
    """A freshly made CA certificate that has nothing to do with the sandbox."""
    import datetime as dt

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "unrelated")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()
