"""The sandbox as one Starlette application: token endpoint, BC API, Dataverse Web API.

The HTTP layer is a thin adapter: it checks the bearer token, turns the Starlette request into
an ``ApiRequest``, lets the store pick up changes made by other processes, and calls the API's
synchronous ``dispatch`` directly on the event loop (fast, and so a ``$batch`` can't
interleave with other requests).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .auth import BC_AUDIENCE, TokenService
from .bc_api import BusinessCentralApi
from .dataverse_api import DataverseApi
from .demo_data import ensure_seeded
from .http import ApiError, ApiRequest, ApiResponse
from .knobs import ServiceKnobs
from .openid import OpenIdService
from .server_date import ServerDate
from .settings import SandboxSettings
from .store import EntityStore, SandboxDataError

ALL_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS", "MERGE"]


def bc_base_path(settings: SandboxSettings) -> str:
    """``/v2.0/{tenant}/{environment}/api/v2.0/``."""
    return f"/v2.0/{settings.tenant}/{settings.environment}/api/v2.0/"


DATAVERSE_BASE_PATH = "/api/data/v9.2/"


def sandbox_info(settings: SandboxSettings, origin: str) -> dict[str, Any]:
    """What a client needs to connect to this sandbox at ``origin`` (``scheme://host[:port]``)."""
    origin = origin.rstrip("/")
    return {
        "bc_api": origin + bc_base_path(settings),
        "dataverse_api": origin + DATAVERSE_BASE_PATH,
        "token_url": f"{origin}/{settings.tenant}/oauth2/v2.0/token",
        "bc_scope": f"{BC_AUDIENCE}/.default",
        "dataverse_scope": f"{origin}/.default",
        "tenant": settings.tenant,
        "environment": settings.environment,
        "company_id": settings.company_id,
        "client_id": settings.client_id,
        "client_secret": settings.client_secret,
        "organization": settings.organization,
    }


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _to_starlette(response: ApiResponse) -> Response:
    return Response(response.body, response.status, headers=response.headers)


async def _api_request(request: Request, base_url: str) -> ApiRequest:
    return ApiRequest(
        method=request.method.upper(),
        path=request.path_params.get("path", ""),
        query=dict(request.query_params),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=await request.body(),
        base_url=base_url,
    )


def _dispatch(api: BusinessCentralApi | DataverseApi, request: ApiRequest) -> Response:
    try:
        return _to_starlette(api.dispatch(request))
    except Exception as exc:  # noqa: BLE001 - dispatch should never raise; if it does, answer like a service would
        return _to_starlette(
            ApiError(500, "InternalServerError", f"The sandbox failed to process the request: {exc!r}").to_response()
        )


def _refresh(store: EntityStore) -> Response | None:
    """Pick up other processes' changes; a data file that went bad answers 500 with the sentence."""
    try:
        store.refresh()
    except SandboxDataError as exc:
        return _to_starlette(ApiError(500, "InternalServerError", str(exc)).to_response())
    return None


def create_app(settings: SandboxSettings, store: EntityStore | None = None) -> Starlette:
    """The sandbox application; seeds the demo data into an empty store.

    Without ``store``, opens ``settings.data_dir / "sandbox.sqlite"`` (or memory when
    ``data_dir`` is None) and closes it when the application shuts down.
    """
    owns_store = store is None
    if store is None:
        store = EntityStore(settings.data_dir / "sandbox.sqlite" if settings.data_dir is not None else None)
    ensure_seeded(store, settings)
    tokens = TokenService(settings)
    openid = OpenIdService(settings)
    bc_api = BusinessCentralApi(store, settings)
    dataverse_api = DataverseApi(store, settings)
    the_store = store

    async def business_central(request: Request) -> Response:
        params = request.path_params
        # Without a tenant in the URL the token's tenant is meant (docs/sandbox-fidelity.md,
        # "Business Central API v2.0"); the sandbox has one tenant, so that is settings.tenant.
        tenant = params.get("tenant", settings.tenant)
        if tenant != settings.tenant or params["environment"] != settings.environment:
            return _to_starlette(
                ApiError(
                    404, "BadRequest_NotFound", f"No environment '{params['environment']}' exists in tenant '{tenant}'."
                ).to_response()
            )
        denied = tokens.check(request.headers, BC_AUDIENCE, "Authentication_InvalidCredentials")
        if denied is not None:
            return _to_starlette(denied)
        # Links in the answer (nextLink, context) keep the form of URL the client used.
        base = bc_base_path(settings) if "tenant" in params else f"/v2.0/{settings.environment}/api/v2.0/"
        api_request = await _api_request(request, _origin(request) + base)
        failed = _refresh(the_store)
        return failed if failed is not None else _dispatch(bc_api, api_request)

    async def dataverse(request: Request) -> Response:
        origin = _origin(request)
        denied = tokens.check(request.headers, origin, "0x80072560")
        if denied is not None:
            return _to_starlette(denied)
        api_request = await _api_request(request, origin + DATAVERSE_BASE_PATH)
        failed = _refresh(the_store)
        return failed if failed is not None else _dispatch(dataverse_api, api_request)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if owns_store:
                the_store.close()

    app = Starlette(
        routes=[
            Route("/{tenant}/oauth2/v2.0/token", tokens.token_endpoint, methods=["POST"]),
            Route("/{tenant}/oauth2/v2.0/devicecode", tokens.device_code_endpoint, methods=["POST"]),
            Route("/devicelogin", tokens.device_login, methods=["POST"]),
            Route("/{tenant}/v2.0/.well-known/openid-configuration", openid.configuration, methods=["GET"]),
            Route("/{tenant}/discovery/v2.0/keys", openid.keys, methods=["GET"]),
            Route("/common/discovery/instance", openid.instance_discovery, methods=["GET"]),
            Route("/v2.0/{tenant}/{environment}/api/v2.0/{path:path}", business_central, methods=ALL_METHODS),
            Route("/v2.0/{environment}/api/v2.0/{path:path}", business_central, methods=ALL_METHODS),
            Route(DATAVERSE_BASE_PATH + "{path:path}", dataverse, methods=ALL_METHODS),
        ],
        # ServerDate outermost: throttled and faulted answers carry a Date too, as real ones do.
        middleware=[Middleware(ServerDate), Middleware(ServiceKnobs, settings=settings)],
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.sandbox_settings = settings
    app.state.tokens = tokens
    return app
