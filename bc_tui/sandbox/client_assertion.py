"""The sandbox's check of a certificate sign-in: a client assertion (a JWT signed with the app's key).

The client sends ``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer``
and ``client_assertion``: a JWT whose header names the certificate by its thumbprint
(``x5t#S256`` with PS256, or ``x5t`` with RS256) and whose claims say who signs (``iss`` and
``sub``: the client id), for whom (``aud``: the token endpoint) and until when (``exp``). The
sandbox looks the thumbprint up among the certificates registered for the app
(``SandboxSettings.client_certificates``) and checks the signature with that certificate's key,
answering as Microsoft's identity platform does (see "Certificate sign-in" in
docs/configuration.md).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _thumbprint(certificate: x509.Certificate, algorithm: hashes.HashAlgorithm) -> str:
    return base64.urlsafe_b64encode(certificate.fingerprint(algorithm)).decode("ascii").rstrip("=")


def load_certificates(pems: Iterable[str]) -> list[x509.Certificate]:
    """The registered certificates from their PEM texts (one or more certificates each)."""
    return [certificate for pem in pems for certificate in x509.load_pem_x509_certificates(pem.encode("ascii"))]


def check_assertion(
    assertion: str, *, client_id: str, token_path: str, certificates: list[x509.Certificate], now: float
) -> str | None:
    """None when ``assertion`` proves ``client_id``; else the identity platform's description of why not.

    ``token_path`` is the path of the token endpoint: ``aud`` must name it. Its origin is not
    compared, because the same sandbox answers in process, on loopback and over TLS.
    """
    try:
        header_part, claims_part, signature_part = assertion.split(".")
        header: Any = json.loads(_b64(header_part))
        claims: Any = json.loads(_b64(claims_part))
        signature = _b64(signature_part)
    except (ValueError, binascii.Error):
        return "AADSTS50027: JWT token is invalid or malformed."
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return "AADSTS50027: JWT token is invalid or malformed."
    algorithm = header.get("alg")
    digest: hashes.HashAlgorithm
    if algorithm == "PS256" and "x5t#S256" in header:
        named, digest = str(header["x5t#S256"]).rstrip("="), hashes.SHA256()
    elif algorithm == "RS256" and "x5t" in header:
        named, digest = str(header["x5t"]).rstrip("="), hashes.SHA1()
    else:
        return "AADSTS5002730: Invalid JWT header type or algorithm; use PS256 with x5t#S256, or RS256 with x5t."
    certificate = next((c for c in certificates if _thumbprint(c, digest) == named), None)
    thumbprint_hex = _b64(named).hex().upper() if named else ""
    if certificate is None:
        return (
            "AADSTS700027: Client assertion contains an invalid signature. [Reason - The key was not found., "
            f"Thumbprint of key used by client: '{thumbprint_hex}', Configured keys for app Id '{client_id}' "
            "do not include it.]"
        )
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        return "AADSTS700027: Client assertion contains an invalid signature. [Reason - The key is not an RSA key.]"
    signed = f"{header_part}.{claims_part}".encode("ascii")
    scheme = (
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=hashes.SHA256.digest_size)
        if algorithm == "PS256"
        else padding.PKCS1v15()
    )
    try:
        key.verify(signature, signed, scheme, hashes.SHA256())
    except InvalidSignature:
        return (
            "AADSTS700027: Client assertion contains an invalid signature. [Reason - The provided signature "
            f"value did not match the expected signature value., Thumbprint of key used by client: '{thumbprint_hex}']"
        )
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        return f"AADSTS700021: Client assertion application identifier doesn't match 'client_id' parameter {client_id}."
    audience = claims.get("aud")
    if not isinstance(audience, str) or not audience.rstrip("/").endswith(token_path):
        return (
            "AADSTS50027: Invalid JWT token. The audience of the client assertion must be the token "
            f"endpoint ({token_path})."
        )
    expires = claims.get("exp")
    if not isinstance(expires, (int, float)) or expires < now:
        return "AADSTS700024: Client assertion is not within its valid time range."
    return None
