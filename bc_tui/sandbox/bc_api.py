"""Business Central API v2.0 emulation (placeholder: being implemented)."""

from __future__ import annotations

from .http import ApiError, ApiRequest, ApiResponse
from .settings import SandboxSettings
from .store import EntityStore


class BusinessCentralApi:
    """``/v2.0/{tenant}/{environment}/api/v2.0/…`` — dispatch() never raises; errors become OData error responses."""

    def __init__(self, store: EntityStore, settings: SandboxSettings) -> None:
        self.store = store
        self.settings = settings

    def dispatch(self, request: ApiRequest) -> ApiResponse:
        return ApiError(501, "NotImplemented", "Not implemented yet").to_response()
