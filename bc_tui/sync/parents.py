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
from collections.abc import Iterable, Mapping
from typing import Any

from bc_tui.connectors import filters as odata
from bc_tui.connectors.models import BcContact, BcCustomer
from bc_tui.domain.mappings import TableMapping
from bc_tui.store import couplings
from bc_tui.store.couplings import normalize_id
from bc_tui.sync.errors import SyncError
from bc_tui.sync.records import bc_rows_where
from bc_tui.sync.session import SyncSession

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
    companies = await bc_rows_where(
        session, BcContact, "number", numbers, select=("id", "number", "displayName", "type")
    )
    name_of = {str(c["number"]): str(c.get("displayName") or "") for c in companies}
    customers = await bc_rows_where(
        session, BcCustomer, "displayName", sorted(set(name_of.values()) - {""}), select=("id", "number", "displayName")
    )
    ids_by_name: dict[str, list[str]] = defaultdict(list)
    for customer in customers:
        ids_by_name[_name_key(customer.get("displayName"))].append(normalize_id(str(customer["id"])))
    coupled = couplings.couplings_by_bc_id(company_mapping(session).name, [i for ids in ids_by_name.values() for i in ids])
    result: dict[str, str | None] = {}
    for number in numbers:
        accounts = {coupled[i].dataverse_id for i in ids_by_name.get(_name_key(name_of.get(number)), []) if i in coupled}
        # Two coupled customers with the company's name: ambiguous, so no parent rather than a wrong one.
        result[number] = next(iter(accounts)) if len(accounts) == 1 else None
    return result


async def parent_companies(session: SyncSession, account_ids: Iterable[str]) -> dict[str, str | None]:
    """For Dataverse accounts (contacts' parents): account id → the number of the BC company
    contact of the coupled customer (None when the account is not coupled or has no company)."""
    wanted = {normalize_id(a) for a in account_ids if a}
    if not wanted:
        return {}
    coupled = couplings.couplings_by_dataverse_id(company_mapping(session).name, wanted)
    rows = await bc_rows_where(
        session, BcCustomer, "id", [uuid.UUID(c.bc_id) for c in coupled.values()], select=("id", "number", "displayName")
    )
    customers = {normalize_id(str(row["id"])): row for row in rows}
    names = sorted({str(c.get("displayName") or "") for c in customers.values()} - {""})
    companies = await bc_rows_where(
        session, BcContact, "displayName", names, filter=odata.eq("type", "Company"), select=("id", "number", "displayName", "type")
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
