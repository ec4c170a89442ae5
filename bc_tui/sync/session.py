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
from bc_tui.connectors.auth import ShowDeviceCode
from bc_tui.connectors.schema import FieldInfo
from bc_tui.domain.mappings import TableMapping
from bc_tui.store import open_store
from bc_tui.store.access import DatabaseThread
from bc_tui.store.mapping_store import apply_overrides, load_table_mappings
from bc_tui.sync.errors import SyncError, as_sync_error
from bc_tui.sync.schema_check import SchemaFinding, apply_findings

#: Entity set -> field name -> what the service says about it.
FieldLists = dict[str, dict[str, FieldInfo]]


@dataclass
class SyncSession:
    """What a use case works with: the two service clients, the stored table mappings and
    ``db``, the one thread every store call runs on (``await session.db(store_fn, ...)``)."""

    bc: BusinessCentralClient
    dataverse: DataverseClient
    mappings: dict[str, TableMapping] = field(default_factory=dict)
    profile: ConnectionProfile | None = None
    db: DatabaseThread = field(default_factory=DatabaseThread)
    #: The schema check's findings (``schema_check.check_schema``); empty until it ran.
    schema_findings: list[SchemaFinding] = field(default_factory=list)
    #: The field lists the check read (BC's, Dataverse's), so a reload applies it again.
    schema: tuple[FieldLists, FieldLists] | None = None

    def mapping(self, name: str) -> TableMapping:
        """The table mapping called ``name`` (e.g. "CUSTOMER"); SyncError when there is none."""
        try:
            return self.mappings[name]
        except KeyError:
            known = ", ".join(self.mappings) or "none"
            raise SyncError(f"There is no table mapping called {name}; use one of: {known}.") from None

    async def reload_mappings(self) -> None:
        """Read the table mappings from the store again (after they were edited).

        Once the schema check ran, its findings are applied again: the session never runs a field
        the services do not have or do not let bc-tui write.
        """
        self.mappings = {m.name: m for m in await self.db(load_table_mappings)}
        if self.schema is not None:
            bc, dataverse = self.schema
            if all(m.bc_entity in bc and m.dataverse_table in dataverse for m in self.mappings.values()):
                self.mappings, self.schema_findings = apply_findings(self.mappings, bc, dataverse)


def _credentials(profile: ConnectionProfile, scope: str) -> ServiceCredentials:
    """How ``profile`` signs in for ``scope``."""
    return ServiceCredentials(
        profile.token_url,
        profile.client_id,
        profile.client_secret,
        scope,
        sign_in=profile.sign_in,
        client_certificate=profile.client_certificate,
        token_cache=profile.token_cache,
    )


def bc_client(
    profile: ConnectionProfile,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    show_device_code: ShowDeviceCode | None = None,
) -> BusinessCentralClient:
    """The Business Central client of ``profile`` (``transport``: in-process tests).

    ``show_device_code`` shows a person where to sign in (profiles with ``sign_in = "device_code"``).
    """
    with as_sync_error():
        credentials = _credentials(profile, profile.bc_scope)
        return BusinessCentralClient(
            profile.bc_api_url,
            profile.bc_company_id,
            credentials,
            transport=transport,
            deadline_s=profile.request_deadline_s,
            show_device_code=show_device_code,
        )


def dataverse_client(
    profile: ConnectionProfile,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    show_device_code: ShowDeviceCode | None = None,
) -> DataverseClient:
    """The Dataverse client of ``profile`` (``transport``: in-process tests; ``show_device_code``: as for bc_client)."""
    with as_sync_error():
        credentials = _credentials(profile, profile.dataverse_scope)
        return DataverseClient(
            profile.dataverse_api_url,
            credentials,
            transport=transport,
            deadline_s=profile.request_deadline_s,
            show_device_code=show_device_code,
        )


@asynccontextmanager
async def open_session(
    profile: ConnectionProfile,
    database_url: str | None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    mapping_overrides: Mapping[str, Any] | None = None,
    show_device_code: ShowDeviceCode | None = None,
) -> AsyncIterator[SyncSession]:
    """Open the coupling store and both clients for ``profile``; close everything on exit.

    ``database_url`` None means the default SQLite file. ``mapping_overrides`` is the config
    file's ``[mappings]`` table. ``show_device_code`` shows a person where to sign in (profiles
    with ``sign_in = "device_code"``; called from a worker thread). Raises :class:`SyncError` when the store
    cannot be opened, an override is invalid or the profile's URLs cannot be used.
    """
    db = DatabaseThread()
    try:
        with as_sync_error():
            await db(_open_store, database_url, mapping_overrides)
    except BaseException:
        db.close()
        raise
    try:
        bc = bc_client(profile, transport=transport, show_device_code=show_device_code)
    except BaseException:
        db.close()
        raise
    try:
        dataverse = dataverse_client(profile, transport=transport, show_device_code=show_device_code)
    except BaseException:
        await bc.aclose()
        db.close()
        raise
    session = SyncSession(bc=bc, dataverse=dataverse, profile=profile, db=db)
    try:
        await session.reload_mappings()
        yield session
    finally:
        try:
            await bc.aclose()
        finally:
            try:
                await dataverse.aclose()
            finally:
                db.close()


def _open_store(database_url: str | None, mapping_overrides: Mapping[str, Any] | None) -> None:
    """Open the store and apply the config file's mapping overrides (on the database thread)."""
    open_store(database_url)
    if mapping_overrides:
        apply_overrides(dict(mapping_overrides))


async def check_connection(session: SyncSession) -> None:
    """Prove that both services answer with these credentials.

    Calls Business Central ``companies`` and Dataverse ``WhoAmI``; raises the connectors' typed
    error (its message is one plain sentence) when either fails, or
    :class:`~bc_tui.connectors.ConnectorError` when the company of the profile is not there.
    """
    companies = await session.bc.companies()
    if not any(str(c.get("id", "")).lower() == session.bc.company_id.lower() for c in companies):
        raise ConnectorError(
            f"Business Central has no company with the id {session.bc.company_id}; check bc_company_id in your profile."
        )
    await session.dataverse.who_am_i()
