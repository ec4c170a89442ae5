"""Servers that answer slowly, partly, hugely, wrongly or indiscreetly, over real loopback sockets.

Each case ends in one typed ConnectorError whose sentence names the service and the next step,
within a bounded time, and never quotes a secret.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bc_tui.connectors import (
    AuthenticationFailed,
    BusinessCentralClient,
    ConnectionLost,
    ConnectorError,
    DataverseClient,
    InvalidRequest,
    MalformedResponse,
    RetryPolicy,
    ServiceCredentials,
    TimedOut,
)
from bc_tui.connectors.guard import redact
from bc_tui.connectors.odata import ODataService

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile_server import (
    HostileServer,
    answer,
    cut_off,
    echo_api,
    echo_token,
    endless,
    token,
    trickle,
)

SECRET = "s3cr3t+Value/with=specials"
FAST = RetryPolicy(max_attempts=2, initial_backoff_s=0.01, max_backoff_s=0.02, max_total_s=5)


def _creds(server: HostileServer) -> ServiceCredentials:
    return ServiceCredentials(f"{server.origin}/tenant/oauth2/v2.0/token", "client-id", SECRET, "scope/.default")


def _bc(server: HostileServer, **kwargs: object) -> BusinessCentralClient:
    return BusinessCentralClient(f"{server.origin}/bc/api/v2.0/", "c1", _creds(server), retry=FAST, **kwargs)  # type: ignore[arg-type]


def _assert_sentence(error: ConnectorError, *words: str) -> None:
    text = error.message
    assert "\n" not in text and len(text) < 700, text
    assert SECRET not in text and "tok-123" not in text
    for word in words:
        assert word in text, text


async def test_a_trickling_answer_hits_the_overall_deadline() -> None:
    with HostileServer({"/tenant": token(), "/bc": trickle(0.2)}) as server:
        async with _bc(server, deadline_s=1.0) as bc:
            with pytest.raises(TimedOut) as caught:
                await bc.companies()
    _assert_sentence(caught.value, "Business Central", "within 1 seconds", "request_deadline_s")
    assert len([r for r in server.requests if r.path.startswith("/bc")]) == 1  # a deadline is not retried


async def test_a_trickling_token_endpoint_hits_the_deadline() -> None:
    with HostileServer({"/tenant": trickle(0.2)}) as server:
        async with _bc(server, deadline_s=1.0) as bc:
            with pytest.raises(TimedOut) as caught:
                await bc.companies()
    _assert_sentence(caught.value, "sign-in service", "within 1 seconds")


async def test_an_endless_body_is_cut_off_at_the_cap() -> None:
    with HostileServer({"/tenant": token(), "/bc": endless()}) as server:
        service = ODataService(
            "Business Central",
            f"{server.origin}/bc/api/v2.0/",
            _creds(server),
            retry=FAST,
            max_body_bytes=1_000_000,
            deadline_s=30,
        )
        try:
            with pytest.raises(MalformedResponse) as caught:
                await service.get_json("companies")
        finally:
            await service.aclose()
    _assert_sentence(caught.value, "larger than 1,000,000 bytes", "check the Business Central URL")


async def test_an_endless_token_answer_is_cut_off() -> None:
    with HostileServer({"/tenant": endless()}) as server:
        async with _bc(server, deadline_s=60) as bc:
            with pytest.raises(MalformedResponse) as caught:
                await bc.companies()
    _assert_sentence(caught.value, "far too large for a token")


async def test_a_body_cut_off_midway_is_a_lost_connection() -> None:
    with HostileServer({"/tenant": token(), "/bc": cut_off()}) as server:
        async with _bc(server) as bc:
            with pytest.raises(ConnectionLost) as caught:
                await bc.companies()
    _assert_sentence(caught.value, "broke before Business Central answered", "try again")


@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [
        ("<html><body>Sign in to the proxy</body></html>", "text/html", ("not JSON", "text/html")),
        ('{"value": [', "application/json", ("not JSON",)),
        ([{"id": "c1"}], "application/json", ("without a 'value' list",)),
        ({"value": {"id": "c1"}}, "application/json", ("without a 'value' list",)),
        ({"value": [], "@odata.nextLink": "https://evil.example/steal"}, "application/json", ("another host",)),
    ],
    ids=["html", "invalid-json", "list-not-object", "value-not-list", "next-link-elsewhere"],
)
async def test_wrong_answers_are_malformed(body: object, content_type: str, words: tuple[str, ...]) -> None:
    with HostileServer({"/tenant": token(), "/bc": answer(200, body, content_type)}) as server:
        async with _bc(server) as bc:
            with pytest.raises(MalformedResponse) as caught:
                await bc.companies()
    _assert_sentence(caught.value, *words)


async def test_who_am_i_as_a_list_is_malformed() -> None:
    with HostileServer({"/tenant": token(), "/api": answer(200, [1, 2, 3])}) as server:
        async with DataverseClient(f"{server.origin}/api/data/v9.2/", _creds(server), retry=FAST) as dv:
            with pytest.raises(MalformedResponse) as caught:
                await dv.who_am_i()
    _assert_sentence(caught.value, "WhoAmI")


@pytest.mark.parametrize("status", [400, 401])
async def test_a_token_endpoint_echoing_the_body_never_shows_the_secret(status: int) -> None:
    with HostileServer({"/tenant": echo_token(status)}) as server:
        async with _bc(server) as bc:
            with pytest.raises(AuthenticationFailed) as caught:
                await bc.companies()
    assert server.requests and b"client_secret" in server.requests[0].body  # it really was echoed
    _assert_sentence(caught.value, "Signing in to Business Central failed", "client_secret=***")


async def test_a_token_answer_of_the_wrong_shape_is_one_sentence() -> None:
    with HostileServer({"/tenant": answer(200, ["not", "a", "token"])}) as server:
        async with _bc(server) as bc:
            with pytest.raises(AuthenticationFailed) as caught:
                await bc.companies()
    _assert_sentence(caught.value, "not a token")


async def test_an_api_echoing_the_bearer_token_is_redacted_and_shortened() -> None:
    with HostileServer({"/tenant": token(), "/bc": echo_api(400)}) as server:
        async with _bc(server) as bc:
            with pytest.raises(InvalidRequest) as caught:
                await bc.companies()
    _assert_sentence(caught.value, "Bearer ***", "characters)")


def test_redact_finds_secrets_in_every_form() -> None:
    said = (
        f"client_secret={SECRET.replace('+', '%2B').replace('/', '%2F').replace('=', '%3D')}&x=1 "
        f"raw {SECRET} Authorization: Bearer eyJabc.def-ghi postgresql://bc:pa55word@db/x "
        '{"access_token": "tok-999"}'
    )
    text = redact(said, [SECRET])
    for secret in (SECRET, "%2F", "eyJabc", "pa55word", "tok-999"):
        assert secret not in text, text
    assert text.count("***") >= 5
