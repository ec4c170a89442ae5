"""User-facing sentences that more than one layer shows (one plain sentence: record, cause, step)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.names import describe_bc, sentence


def company_not_coupled(mapping: TableMapping, contact: Mapping[str, Any]) -> str:
    """Why a BC contact cannot be created in Dataverse: its company has no coupled account.

    See docs/coupling-and-sync.md "Table and field mappings".

    Names the company to couple first — the frequent real-world failure BC reports only as
    "the company does not exist".
    """
    company = (
        " ".join(str(part) for part in (contact.get("companyNumber"), contact.get("companyName")) if part)
        or "(no company)"
    )
    return (
        f"Cannot create {describe_bc(mapping, contact)} in Dataverse: its company {company} is not "
        "coupled to a Dataverse account. Couple the company's customer first, then synchronize the contact again."
    )


def not_coupled_question(record: str) -> str:
    """The question asked when the user synchronizes a record that has no coupling.

    See docs/coupling-and-sync.md "Synchronize Now".
    """
    return f"{sentence(record)} is not coupled to Dataverse. Do you want to create a coupling?"
