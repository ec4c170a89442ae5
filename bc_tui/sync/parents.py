"""A contact's company on the other side: the parent account of a BC contact, and back.

BC API v2.0 links a person contact to its *company contact* (``companyNumber``), not to the
customer. The company contact of a customer carries the customer's name (BC creates it from the
customer through the contact business relation), so the chain is:

    BC person contact --companyNumber--> BC company contact --same name--> BC customer
    --CUSTOMER coupling--> Dataverse account  (the contact's ``parentcustomerid``)

and the reverse for a Dataverse contact created in BC.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bc_tui.connectors import filters as odata
from bc_tui.connectors import parent_account
from bc_tui.connectors.models import BcContact, BcCustomer
from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.messages import company_not_coupled
from bc_tui.store.coupling_queries import couplings_by_bc_id, couplings_by_dataverse_id
from bc_tui.store.records import Side, normalize_id
from bc_tui.sync.errors import SyncError
from bc_tui.sync.records import rows_where
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import BC_SIDE

Record = Mapping[str, Any]


def company_mapping(session: SyncSession) -> TableMapping:
    """The table mapping that couples BC customers (the companies of contacts)."""
    for mapping in session.mappings.values():
        if mapping.bc_entity == "customers":
            return mapping
    raise SyncError("No table mapping couples Business Central customers, so contacts cannot find their company.")


def _name_key(name: Any) -> str:
    return " ".join(str(name or "").split()).casefold()


async def parent_accounts(session: SyncSession, contacts: Iterable[Record]) -> dict[str, str | None]:
    """For BC person contacts: ``companyNumber`` → the id of the coupled Dataverse account (None
    when the company has no coupled customer)."""
    numbers = sorted({str(c.get("companyNumber") or "") for c in contacts} - {""})
    if not numbers:
        return {}
    companies = await rows_where(
        BC_SIDE, session, BcContact, "number", numbers, select=("id", "number", "displayName", "type")
    )
    name_of = {str(c["number"]): str(c.get("displayName") or "") for c in companies}
    customers = await rows_where(
        BC_SIDE,
        session,
        BcCustomer,
        "displayName",
        sorted(set(name_of.values()) - {""}),
        select=("id", "number", "displayName"),
    )
    ids_by_name: dict[str, list[str]] = defaultdict(list)
    for customer in customers:
        ids_by_name[_name_key(customer.get("displayName"))].append(normalize_id(str(customer["id"])))
    coupled = await session.db(
        couplings_by_bc_id, company_mapping(session).name, [i for ids in ids_by_name.values() for i in ids]
    )
    result: dict[str, str | None] = {}
    for number in numbers:
        accounts = {
            coupled[i].dataverse_id for i in ids_by_name.get(_name_key(name_of.get(number)), []) if i in coupled
        }
        # Two coupled customers with the company's name: ambiguous, so no parent rather than a wrong one.
        result[number] = next(iter(accounts)) if len(accounts) == 1 else None
    return result


async def parent_companies(session: SyncSession, account_ids: Iterable[str]) -> dict[str, str | None]:
    """For Dataverse accounts (contacts' parents): account id → the number of the BC company
    contact of the coupled customer (None when the account is not coupled or has no company)."""
    wanted = {normalize_id(a) for a in account_ids if a}
    if not wanted:
        return {}
    coupled = await session.db(couplings_by_dataverse_id, company_mapping(session).name, wanted)
    rows = await rows_where(
        BC_SIDE,
        session,
        BcCustomer,
        "id",
        [uuid.UUID(c.bc_id) for c in coupled.values()],
        select=("id", "number", "displayName"),
    )
    customers = {normalize_id(str(row["id"])): row for row in rows}
    names = sorted({str(c.get("displayName") or "") for c in customers.values()} - {""})
    companies = await rows_where(
        BC_SIDE,
        session,
        BcContact,
        "displayName",
        names,
        filter=odata.eq("type", "Company"),
        select=("id", "number", "displayName", "type"),
    )
    number_by_name: dict[str, set[str]] = defaultdict(set)
    for company in companies:
        number_by_name[_name_key(company.get("displayName"))].add(str(company["number"]))
    result: dict[str, str | None] = {}
    for account_id in wanted:
        coupling = coupled.get(account_id)
        customer = customers.get(coupling.bc_id) if coupling else None
        numbers = number_by_name.get(_name_key(customer.get("displayName"))) if customer else None
        result[account_id] = next(iter(numbers)) if numbers and len(numbers) == 1 else None
    return result


# --- the parent of a new contact ------------------------------------------------------------------

#: Entities whose new records must name their parent (a contact its company / account).
_WITH_PARENT = frozenset({"contacts"})


@dataclass(frozen=True)
class _ParentLink:
    """How a new record on one side is linked to its parent: look the parents of the source
    records up in one go, then give each its fields, or refuse it when its parent is not coupled."""

    lookup: Callable[[SyncSession, Sequence[Record]], Awaitable[dict[str, str | None]]]
    #: The source record's reference to its parent, as ``lookup`` keys it.
    parent_of: Callable[[Record], str | None]
    fields: Callable[[str], dict[str, Any]]
    refusal: Callable[[TableMapping, Record, str], str]


def _account_parent(contact: Record) -> str | None:
    return str(contact.get("companyNumber") or "")


def _company_parent(contact: Record) -> str | None:
    return normalize_id(str(contact.get("_parentcustomerid_value") or "")) or None


async def _companies_of(session: SyncSession, contacts: Sequence[Record]) -> dict[str, str | None]:
    return await parent_companies(session, [str(c.get("_parentcustomerid_value") or "") for c in contacts])


def _account_not_coupled(mapping: TableMapping, contact: Record, description: str) -> str:
    return (
        f"Cannot create {description} in Business Central: its account is not coupled to a Business Central "
        "customer with a company contact. Couple the account first, then create the contact again."
    )


#: Per side a new contact is created on: where its parent comes from.
_LINKS: Mapping[Side, _ParentLink] = {
    # A BC contact's company → the Dataverse account coupled to that company's customer.
    Side.DATAVERSE: _ParentLink(
        parent_accounts,
        _account_parent,
        parent_account,
        lambda mapping, contact, _: company_not_coupled(mapping, contact),
    ),
    # A Dataverse contact's account → the company contact of the BC customer coupled to it.
    Side.BC: _ParentLink(
        _companies_of, _company_parent, lambda number: {"companyNumber": number}, _account_not_coupled
    ),
}


#: The fields that link one new record to its parent, or None when its parent is not coupled.
ParentFields = Callable[[Record], dict[str, Any] | None]


async def parent_fields(
    session: SyncSession, mapping: TableMapping, destination: Side, sources: Sequence[Record]
) -> ParentFields:
    """For records about to be created on ``destination`` from ``sources``: the fields linking
    each to its parent (none when the mapping's records have no parent)."""
    if mapping.bc_entity not in _WITH_PARENT or not sources:
        return lambda source: {}
    link = _LINKS[destination]
    found = await link.lookup(session, sources)

    def fields(source: Record) -> dict[str, Any] | None:
        key = link.parent_of(source)
        parent = found.get(key) if key else None
        return link.fields(parent) if parent is not None else None

    return fields


def parent_refusal(mapping: TableMapping, destination: Side, source: Record, description: str) -> str:
    """Why ``source`` cannot be created on ``destination``: its parent is not coupled."""
    return _LINKS[destination].refusal(mapping, source, description)
