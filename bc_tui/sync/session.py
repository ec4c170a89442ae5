"""The session every use case takes: both service clients and the table mappings of the store.

Open it with :func:`open_session`; it opens the coupling database, applies the config file's
mapping overrides, creates the Business Central and Dataverse clients and closes them again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from bc_tui.config import ConnectionProfile
from bc_tui.connectors import BusinessCentralClient, ConnectorError, DataverseClient, ServiceCredentials
from bc_tui.domain.mappings import TableMapping
from bc_tui.store import open_store
from bc_tui.store import database as store_database
from bc_tui.store.mapping_store import apply_overrides, load_table_mappings
from bc_tui.sync.errors import SyncError, as_sync_error


@dataclass
class SyncSession:
    """What a use case works with: the two service clients and the stored table mappings."""

    bc: BusinessCentralClient
    dataverse: DataverseClient
    mappings: dict[str, TableMapping] = field(default_factory=dict)
    profile: ConnectionProfile | None = None

    def mapping(self, name: str) -> TableMapping:
        """The table mapping called ``name`` (e.g. "CUSTOMER"); SyncError when there is none."""
        try:
            return self.mappings[name]
        except KeyError:
            known = ", ".join(self.mappings) or "none"
            raise SyncError(
                f"There is no table mapping called {name}; use one of: {known}."
            ) from None

    def reload_mappings(self) -> None:
        """Read the table mappings from the store again (after they were edited)."""
        self.mappings = {m.name: m for m in load_table_mappings()}


def bc_client(profile: ConnectionProfile, *, transport: httpx.AsyncBaseTransport | None = None) -> BusinessCentralClient:
    """The Business Central client of ``profile`` (``transport``: in-process tests)."""
    with as_sync_error():
        credentials = ServiceCredentials(profile.token_url, profile.client_id, profile.client_secret, profile.bc_scope)
        return BusinessCentralClient(profile.bc_api_url, profile.bc_company_id, credentials, transport=transport,
                                     deadline_s=profile.request_deadline_s)


def dataverse_client(profile: ConnectionProfile, *, transport: httpx.AsyncBaseTransport | None = None) -> DataverseClient:
    """The Dataverse client of ``profile`` (``transport``: in-process tests)."""
    with as_sync_error():
        credentials = ServiceCredentials(
            profile.token_url, profile.client_id, profile.client_secret, profile.dataverse_scope
        )
        return DataverseClient(profile.dataverse_api_url, credentials, transport=transport,
                               deadline_s=profile.request_deadline_s)


@asynccontextmanager
async def open_session(
    profile: ConnectionProfile,
    database_url: str | None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    mapping_overrides: Mapping[str, Any] | None = None,
) -> AsyncIterator[SyncSession]:
    """Open the coupling store and both clients for ``profile``; close everything on exit.

    ``database_url`` None means the default SQLite file. ``mapping_overrides`` is the config
    file's ``[mappings]`` table. Raises :class:`SyncError` when the store cannot be opened,
    an override is invalid or the profile's URLs cannot be used.
    """
    with as_sync_error():
        open_store(database_url)
        if mapping_overrides:
            apply_overrides(dict(mapping_overrides))
    try:
        bc = bc_client(profile, transport=transport)
    except BaseException:
        store_database.close()
        raise
    try:
        dataverse = dataverse_client(profile, transport=transport)
    except BaseException:
        await bc.aclose()
        store_database.close()
        raise
    session = SyncSession(bc=bc, dataverse=dataverse, profile=profile)
    try:
        session.reload_mappings()
        yield session
    finally:
        try:
            await bc.aclose()
        finally:
            try:
                await dataverse.aclose()
            finally:
                store_database.close()


async def check_connection(session: SyncSession) -> None:
    """Prove that both services answer with these credentials.

    Calls Business Central ``companies`` and Dataverse ``WhoAmI``; raises the connectors' typed
    error (its message is one plain sentence) when either fails, or
    :class:`~bc_tui.connectors.ConnectorError` when the company of the profile is not there.
    """
    companies = await session.bc.companies()
    if not any(str(c.get("id", "")).lower() == session.bc.company_id.lower() for c in companies):
        raise ConnectorError(
            f"Business Central has no company with the id {session.bc.company_id}; "
            "check bc_company_id in your profile."
        )
    await session.dataverse.who_am_i()
