"""A server that answers nonsense: the connectors say so in one sentence, never crash.

The tiny server here is test scaffolding for the *other side of the wire* (an httpx.MockTransport
standing in for a misconfigured proxy or a wrong URL), not a mock of bc-tui's own code.
"""

import json

import httpx
import pytest

from bc_tui.connectors import (
    BusinessCentralClient,
    DataverseAccount,
    DataverseClient,
    MalformedResponse,
    ServiceCredentials,
)

CREDS = ServiceCredentials("http://sandbox/tenant/oauth2/v2.0/token", "client", "secret", "scope/.default")


def serve(api_answer: httpx.Response) -> httpx.MockTransport:
    """Answer token requests properly and every API request with ``api_answer``."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"token_type": "Bearer", "expires_in": 3599, "access_token": "t"})
        return api_answer

    return httpx.MockTransport(handler)


async def test_html_instead_of_json_is_malformed() -> None:
    transport = serve(httpx.Response(200, text="<html>proxy login</html>", headers={"content-type": "text/html"}))
    async with DataverseClient("http://sandbox/api/data/v9.2/", CREDS, transport=transport) as dv:
        with pytest.raises(MalformedResponse, match="not JSON") as caught:
            await dv.who_am_i()
    assert "check the Dataverse URL in your profile" in caught.value.message


async def test_list_without_value_is_malformed() -> None:
    transport = serve(httpx.Response(200, json={"items": []}))
    async with BusinessCentralClient("http://sandbox/v2.0/t/e/api/v2.0/", "c1", CREDS, transport=transport) as bc:
        with pytest.raises(MalformedResponse, match="without a 'value' list"):
            await bc.companies()


async def test_row_without_etag_is_malformed() -> None:
    transport = serve(httpx.Response(200, json={"value": [{"accountid": "a1", "name": "No ETag"}]}))
    async with DataverseClient("http://sandbox/api/data/v9.2/", CREDS, transport=transport) as dv:
        with pytest.raises(MalformedResponse, match="without an ETag"):
            [a async for a in dv.rows(DataverseAccount)]


async def test_next_link_to_another_host_is_refused() -> None:
    page = {
        "value": [{"accountid": "a1", "@odata.etag": 'W/"1"'}],
        "@odata.nextLink": "https://evil.example/api/data/v9.2/accounts?$skiptoken=1",
    }
    transport = serve(
        httpx.Response(200, content=json.dumps(page).encode(), headers={"content-type": "application/json"})
    )
    async with DataverseClient("http://sandbox/api/data/v9.2/", CREDS, transport=transport) as dv:
        pages = dv.pages(DataverseAccount)
        assert len(await anext(pages)) == 1
        with pytest.raises(MalformedResponse, match="another host"):
            await anext(pages)
