"""Finding records of the sandbox's demo data that fit a test (read straight from its store)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette


def key(name: Any) -> str:
    """A name as matching compares it: trimmed, inner blanks collapsed, case-folded."""
    return " ".join(str(name or "").split()).casefold()


def rows(app: Starlette, entity_set: str) -> list[dict[str, Any]]:
    """The sandbox rows of ``entity_set`` (e.g. ``dv/accounts``)."""
    return list(app.state.store.rows(entity_set))


def active_customers(app: Starlette) -> list[dict[str, Any]]:
    """Customers inside the CUSTOMER table filter (not blocked)."""
    return [c for c in rows(app, "bc/customers") if not c["blocked"].strip()]


def customers_without_account(app: Starlette) -> list[dict[str, Any]]:
    """Active customers with no account of the same (or similar) name or e-mail in Dataverse."""
    names = {key(a["name"]) for a in rows(app, "dv/accounts")}
    mails = {key(a["emailaddress1"]) for a in rows(app, "dv/accounts")}
    return [c for c in active_customers(app) if key(c["displayName"]) not in names and key(c["email"]) not in mails]


def customers_with_twin(app: Starlette) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Active customers paired with the account that has exactly the same name."""
    by_name = {a["name"]: a for a in rows(app, "dv/accounts")}
    return [(c, by_name[c["displayName"]]) for c in active_customers(app) if c["displayName"] in by_name]


def blocked_customer(app: Starlette) -> dict[str, Any]:
    """A customer outside the table filter."""
    return next(c for c in rows(app, "bc/customers") if c["blocked"].strip())


def persons_of(app: Starlette, customer: dict[str, Any]) -> list[dict[str, Any]]:
    """The person contacts of a customer's company contact."""
    company = next(
        c for c in rows(app, "bc/contacts") if c["type"] == "Company" and c["displayName"] == customer["displayName"]
    )
    return [c for c in rows(app, "bc/contacts") if c["type"] == "Person" and c["companyNumber"] == company["number"]]


def dataverse_only_accounts(app: Starlette) -> list[dict[str, Any]]:
    """Accounts no BC customer resembles."""
    names = {key(c["displayName"]) for c in rows(app, "bc/customers")}
    mails = {key(c["email"]) for c in rows(app, "bc/customers")}
    return [a for a in rows(app, "dv/accounts") if key(a["name"]) not in names and key(a["emailaddress1"]) not in mails]
