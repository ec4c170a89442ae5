"""Pieces with no HTTP of their own: URL rule, credentials, models, multipart codec, flow control."""

import asyncio

import pytest

from bc_tui.connectors import BcCustomer, DataverseAccount, MalformedResponse, ServiceCredentials
from bc_tui.connectors.credentials import check_url
from bc_tui.connectors.errors import ConfigurationError
from bc_tui.connectors.multipart import HttpPart, parse_batch, render_batch
from bc_tui.connectors.odata import holds_values, retry_after_seconds
from bc_tui.connectors.throttle import ConcurrencyLimiter, PauseGate


@pytest.mark.parametrize(
    "url",
    [
        "https://api.businesscentral.dynamics.com/v2.0/",
        "http://127.0.0.1:8123/x/",
        "http://localhost/x/",
        "http://[::1]:80/x/",
        "http://127.5.6.7/x/",
    ],
)
def test_allowed_urls(url: str) -> None:
    assert check_url(url, what="Business Central").host


def test_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="use https://"):
        check_url("http://contoso.crm.dynamics.com/api/data/v9.2/", what="Dataverse")


def test_in_process_host_needs_an_explicit_transport() -> None:
    with pytest.raises(ConfigurationError):
        check_url("http://sandbox/api/", what="Dataverse")
    assert check_url("http://sandbox/api/", what="Dataverse", in_process=True).host == "sandbox"


def test_secret_is_not_in_repr() -> None:
    creds = ServiceCredentials("https://login/t/token", "client", "s3cr3t-value", "scope/.default")
    assert "s3cr3t-value" not in repr(creds)
    with pytest.raises(ConfigurationError):
        ServiceCredentials("https://login/t/token", "client", "", "scope")


def test_rows_without_key_or_etag_are_malformed() -> None:
    with pytest.raises(MalformedResponse, match="without its id"):
        BcCustomer.from_row({"@odata.etag": 'W/"1"', "number": "10000"})
    with pytest.raises(MalformedResponse, match="without an ETag"):
        DataverseAccount.from_row({"accountid": "a1", "name": "Contoso"})
    account = DataverseAccount.from_row(
        {"accountid": "a1", "@odata.etag": 'W/"7"', "name": "Contoso", "modifiedon": "2026-03-01T10:00:00Z"}
    )
    assert (account.id, account.etag, account.name, account.modified_at.year) == ("a1", 'W/"7"', "Contoso", 2026)
    assert "@odata.etag" not in account.data


def test_a_row_keeps_the_callers_mapping_and_drops_every_control_information() -> None:
    row = {
        "@odata.context": "$metadata#customers/$entity",
        "@odata.etag": 'W/"3"',
        "@odata.type": "#Microsoft.NAV.customer",
        "@odata.id": "customers(c1)",
        "id": "c1",
        "number": "10000",
        "lastModifiedDateTime": "2026-03-01T10:00:00.1234567Z",
        "picture@odata.mediaReadLink": "customers(c1)/picture",  # a property's annotation is kept
    }
    before = dict(row)
    customer = BcCustomer.from_row(row)
    assert row == before  # from_row copies: the caller's row is untouched
    assert dict(customer.data) == {
        "id": "c1",
        "number": "10000",
        "lastModifiedDateTime": "2026-03-01T10:00:00.1234567Z",
        "picture@odata.mediaReadLink": "customers(c1)/picture",
    }
    assert str(customer.modified_at) == "2026-03-01 10:00:00.123456+00:00"
    taken = BcCustomer.take_row(row)  # a page's own row: taken over as it is
    assert taken == customer and taken.data is row


def test_multipart_round_trip_shape() -> None:
    content_type, body = render_batch([[HttpPart("POST", "http://h/api/accounts", {}, {"name": "A"}, "1")]])
    assert content_type.startswith("multipart/mixed; boundary=batch_")
    assert b"Content-ID: 1" in body and b"POST http://h/api/accounts HTTP/1.1" in body
    response = (
        b"--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n"
        b"--changesetresponse_2\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        b"Content-ID: 1\r\n\r\nHTTP/1.1 204 No Content\r\nOData-EntityId: http://h/api/accounts(1)\r\n\r\n\r\n"
        b"--changesetresponse_2--\r\n"
        b"--batchresponse_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\r\n"
        b'{"error":{"code":"0x80040217","message":"missing"}}\r\n'
        b"--batchresponse_1--\r\n"
    )
    parts = parse_batch("multipart/mixed; boundary=batchresponse_1", response)
    assert [(p.status, p.content_id, p.change_set) for p in parts] == [(204, "1", 0), (404, None, None)]
    assert parts[0].headers["odata-entityid"] == "http://h/api/accounts(1)"
    assert parts[1].json()["error"]["code"] == "0x80040217"


def test_holds_values_compares_written_fields_and_binds() -> None:
    row = {"name": "A", "creditlimit": 1000.0, "phone": "", "_parentcustomerid_value": "ABC"}
    assert holds_values(row, {"name": "A", "creditlimit": 1000, "phone": None})
    assert holds_values(row, {"parentcustomerid_account@odata.bind": "/accounts(abc)"})
    assert not holds_values(row, {"name": "B"})
    assert not holds_values(row, {"missing": 1})


def test_retry_after_parsing() -> None:
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert retry_after_seconds({}) is None
    assert retry_after_seconds({"retry-after": "soon"}) is None


async def test_limiter_caps_and_resizes() -> None:
    limiter = ConcurrencyLimiter(2)
    running = 0
    release = asyncio.Event()

    async def job() -> None:
        nonlocal running
        async with limiter:
            running += 1
            await release.wait()

    tasks = [asyncio.create_task(job()) for _ in range(5)]
    await asyncio.sleep(0.01)
    assert running == 2
    limiter.resize(4)
    await asyncio.sleep(0.01)
    assert running == 4
    release.set()
    await asyncio.gather(*tasks)
    assert (running, limiter.peak, limiter.active) == (5, 4, 0)


async def test_pause_gate_holds_everyone_then_opens() -> None:
    gate = PauseGate()
    await gate.wait()
    assert gate.waits == 0
    in_flight_since = gate.clock - 0.001
    gate.pause(0.05)
    gate.pause(0.01, sent_at=in_flight_since)  # sent before the pause began: same burst; never shortens
    assert (gate.pauses, gate.throttled) == (1, 2)
    await asyncio.gather(gate.wait(), gate.wait())
    assert gate.waits == 2
