"""Async HTTP clients for Business Central (API v2.0) and Dataverse (Web API v9.2).

One shared OData layer (``odata``) does auth, paging, ETags, retries, throttling and typed
errors; ``business_central`` and ``dataverse`` add each service's entities and ``$batch`` form.
"""

from .batch import BatchOperation, BatchResult
from .business_central import BusinessCentralClient
from .credentials import ServiceCredentials
from .dataverse import DataverseClient, bind, parent_account
from .errors import (
    AlreadyExists,
    AuthenticationFailed,
    ChangedSinceRead,
    ConfigurationError,
    ConnectionLost,
    ConnectorError,
    DuplicateKey,
    InvalidRequest,
    MalformedResponse,
    NotFound,
    ServiceError,
    Throttled,
    TimedOut,
    Unreachable,
)
from .models import BcContact, BcCustomer, DataverseAccount, DataverseContact, Entity
from .odata import RetryPolicy

__all__ = [
    "AlreadyExists",
    "AuthenticationFailed",
    "BatchOperation",
    "BatchResult",
    "BcContact",
    "BcCustomer",
    "BusinessCentralClient",
    "ChangedSinceRead",
    "ConfigurationError",
    "ConnectionLost",
    "ConnectorError",
    "DataverseAccount",
    "DataverseClient",
    "DataverseContact",
    "DuplicateKey",
    "Entity",
    "InvalidRequest",
    "MalformedResponse",
    "TimedOut",
    "NotFound",
    "RetryPolicy",
    "ServiceCredentials",
    "ServiceError",
    "Throttled",
    "Unreachable",
    "bind",
    "parent_account",
]
