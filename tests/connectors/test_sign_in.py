"""Certificate and device code sign-in, through MSAL, against the sandbox's identity platform."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import httpx
import pytest
from connector_helpers import Endpoint, open_endpoint

from bc_tui.connectors import AuthenticationFailed, BusinessCentralClient, DataverseClient, ServiceCredentials
from bc_tui.connectors.errors import ConfigurationError
from bc_tui.sandbox.settings import SandboxSettings
from tests.app_certificates import new_key_and_certificate


@pytest.fixture(scope="module")
def registered() -> tuple[bytes, bytes]:
    return new_key_and_certificate("bc-tui registered")


def _certificate_file(tmp_path: Path, key_pem: bytes, cert_pem: bytes) -> Path:
    path = tmp_path / "app.pem"
    path.write_bytes(key_pem + cert_pem)
    return path


def _bc(endpoint: Endpoint, credentials: ServiceCredentials, **kwargs: object) -> BusinessCentralClient:
    return BusinessCentralClient(
        endpoint.info["bc_api"], endpoint.info["company_id"], credentials, transport=endpoint.transport, **kwargs
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["in-process", "loopback"])
async def test_a_registered_certificate_signs_in(kind: str, tmp_path: Path, registered: tuple[bytes, bytes]) -> None:
    key_pem, cert_pem = registered
    settings = SandboxSettings(client_certificates=(cert_pem.decode(),))
    with open_endpoint(kind, settings) as endpoint:
        credentials = endpoint.bc_credentials(
            client_secret="",
            sign_in="client_certificate",
            client_certificate=_certificate_file(tmp_path, key_pem, cert_pem),
        )
        async with _bc(endpoint, credentials) as bc:
            assert [c["name"] for c in await bc.companies()] == ["CRONUS International Ltd."]
            assert bc.service.tokens.fetch_count == 1


async def test_an_unregistered_certificate_is_refused_in_one_sentence(
    tmp_path: Path, registered: tuple[bytes, bytes]
) -> None:
    settings = SandboxSettings(client_certificates=(registered[1].decode(),))
    stranger = _certificate_file(tmp_path, *new_key_and_certificate("someone else"))
    with open_endpoint("in-process", settings) as endpoint:
        credentials = endpoint.bc_credentials(
            client_secret="", sign_in="client_certificate", client_certificate=stranger
        )
        async with _bc(endpoint, credentials) as bc:
            with pytest.raises(AuthenticationFailed) as caught:
                await bc.companies()
    message = str(caught.value)
    assert message.startswith("Signing in to Business Central failed (invalid_client): AADSTS700027:")
    assert "The key was not found" in message and "client certificate" in message
    assert "\n" not in message and "BEGIN" not in message


async def test_a_certificate_file_without_a_key_is_a_configuration_error(
    tmp_path: Path, registered: tuple[bytes, bytes]
) -> None:
    only_certificate = tmp_path / "cert.pem"
    only_certificate.write_bytes(registered[1])
    with open_endpoint("in-process", SandboxSettings()) as endpoint:
        credentials = endpoint.bc_credentials(
            client_secret="", sign_in="client_certificate", client_certificate=only_certificate
        )
        async with _bc(endpoint, credentials) as bc:
            with pytest.raises(ConfigurationError, match="must be one PEM file holding an unencrypted private key"):
                await bc.companies()


@pytest.mark.parametrize("kind", ["in-process", "loopback"])
async def test_device_code_sign_in_once_serves_both_services_and_the_next_start(kind: str, tmp_path: Path) -> None:
    settings = SandboxSettings(device_code_interval_s=1, device_code_approve_after=1)
    cache = tmp_path / "sign-in" / "sandbox.json"
    shown: list[str] = []
    with open_endpoint(kind, settings) as endpoint:

        def clients() -> tuple[BusinessCentralClient, DataverseClient]:
            person = {"client_secret": "", "sign_in": "device_code", "token_cache": cache}
            return (
                _bc(endpoint, endpoint.bc_credentials(**person), show_device_code=shown.append),  # type: ignore[arg-type]
                DataverseClient(
                    endpoint.info["dataverse_api"],
                    endpoint.dv_credentials(**person),  # type: ignore[arg-type]
                    transport=endpoint.transport,
                    show_device_code=shown.append,
                ),
            )

        bc, dv = clients()
        async with bc, dv:
            companies, me = await asyncio.gather(bc.companies(), dv.who_am_i())
            assert companies and me["UserId"]
            token = bc.service.tokens.current
        # One person, one sign-in: the message once, naming the page and the code, never a token.
        (message,) = shown
        assert message.startswith("To sign in, use a web browser to open the page ")
        assert "/devicelogin and enter the code " in message
        assert token and token not in message
        assert stat.S_IMODE(cache.stat().st_mode) == 0o600

        # The next start signs in silently from the cache (its refresh token).
        bc, dv = clients()
        async with bc, dv:
            await bc.companies()
            await dv.who_am_i()
        assert len(shown) == 1


async def test_device_code_waits_until_the_person_approves(tmp_path: Path) -> None:
    settings = SandboxSettings(device_code_interval_s=1)
    shown: list[str] = []
    with open_endpoint("in-process", settings) as endpoint:
        credentials = endpoint.bc_credentials(client_secret="", sign_in="device_code", token_cache=tmp_path / "c.json")
        async with _bc(endpoint, credentials, show_device_code=shown.append) as bc:
            signing_in = asyncio.create_task(bc.companies())
            # The code is shown from the sign-in's worker thread, where an asyncio.Event cannot be set.
            while not shown:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.5)
            assert not signing_in.done()  # authorization_pending: still polling
            page = shown[0].split("open the page ")[1].split()[0]
            code = shown[0].split("enter the code ")[1].split()[0]
            async with httpx.AsyncClient(transport=endpoint.transport) as browser:
                wrong = await browser.post(page, data={"code": "NOTACODE1"})
                assert wrong.status_code == 400
                approved = await browser.post(page, data={"code": code.lower()})
                assert approved.status_code == 200, approved.text
            assert await asyncio.wait_for(signing_in, 10)


async def test_an_abandoned_device_code_sign_in_stops_polling(tmp_path: Path) -> None:
    # Ctrl-C in the CLI or closing the app cancels the wait; the sign-in's thread must end with
    # it, or the exit would wait until the code expires (15 minutes).
    shown: list[str] = []
    with open_endpoint("in-process", SandboxSettings(device_code_interval_s=1)) as endpoint:
        credentials = endpoint.bc_credentials(client_secret="", sign_in="device_code", token_cache=tmp_path / "c.json")
        async with _bc(endpoint, credentials, show_device_code=shown.append) as bc:
            signing_in = asyncio.create_task(bc.companies())
            # The code is shown from the sign-in's worker thread, where an asyncio.Event cannot be set.
            while not shown:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            signing_in.cancel()
            with pytest.raises(asyncio.CancelledError):
                await signing_in
            # The worker threads all end: the one that polled stops at its next look at the clock.
            await asyncio.wait_for(asyncio.get_running_loop().shutdown_default_executor(), 5)
    assert not (tmp_path / "c.json").exists()  # no sign-in, nothing kept
