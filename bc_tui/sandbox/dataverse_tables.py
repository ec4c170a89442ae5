"""The Dataverse tables the sandbox emulates: their columns, types, lookups and keys.

A small, explicit slice of the real metadata (``EntityDefinitions``): enough for the Web API
emulation to accept exactly the attributes the real service accepts for these tables, to
reject the rest with the real error, and to resolve ``@odata.bind`` lookups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

#: Attribute types, named after their Edm types (what error messages mention).
STRING = "Edm.String"
DECIMAL = "Edm.Decimal"
INT = "Edm.Int32"
GUID = "Edm.Guid"
DATETIME = "Edm.DateTimeOffset"
BIGINT = "Edm.Int64"


@dataclass(frozen=True)
class Lookup:
    """A lookup column (``_<name>_value``) and the navigation properties that write it.

    ``targets`` maps each single-valued navigation property (what ``@odata.bind`` names) to
    the entity set it points at; a polymorphic lookup such as ``parentcustomerid`` has one
    navigation property per target table.
    """

    name: str
    targets: Mapping[str, str]

    @property
    def value_field(self) -> str:
        return f"_{self.name}_value"


@dataclass(frozen=True)
class Choice:
    """The options of a choice (``Picklist``), ``State`` or ``Status`` column.

    ``options`` are (value, label) pairs in display order; for a status column, ``states``
    maps each status value to the state it belongs to (the real service's ``State`` property).
    """

    kind: str
    option_set: str
    options: tuple[tuple[int, str], ...]
    states: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    """One emulated table as the Web API exposes it."""

    entity_set: str
    logical_name: str
    #: Column name -> Edm type, for the columns a client may write.
    columns: Mapping[str, str]
    #: Column name -> maximum length, for string columns.
    max_lengths: Mapping[str, int] = field(default_factory=dict)
    lookups: tuple[Lookup, ...] = ()
    #: Columns the service computes; writes to them are ignored, as on the real service.
    computed: Mapping[str, str] = field(default_factory=dict)
    writable: bool = True
    #: The column that names a row (``PrimaryNameAttribute``) and the table's ``ObjectTypeCode``.
    primary_name: str = ""
    object_type_code: int = 0
    #: Integer columns that are choices, with their options (what metadata and labels show).
    choices: Mapping[str, Choice] = field(default_factory=dict)
    #: Decimal columns that are currency amounts (``Money`` rather than ``Decimal``).
    money: frozenset[str] = frozenset()
    #: The one alternate key a customized organization defines on the table: (SchemaName, columns).
    alternate_key: tuple[str, tuple[str, ...]] | None = None

    @property
    def primary_key(self) -> str:
        """The key column: the logical name and ``id``, as Dataverse names every table's key."""
        return f"{self.logical_name}id"

    @property
    def store_set(self) -> str:
        """The entity set's name in the sandbox store."""
        return f"dv/{self.entity_set}"

    @property
    def type_name(self) -> str:
        """The OData type name used in error messages (``Microsoft.Dynamics.CRM.account``)."""
        return f"Microsoft.Dynamics.CRM.{self.logical_name}"

    @cached_property
    def properties(self) -> dict[str, str]:
        """Every property a client may read, select, filter and order by, with its type."""
        names = {self.primary_key: GUID, **self.columns, **self.computed}
        for lookup in self.lookups:
            names[lookup.value_field] = GUID
        names["versionnumber"] = BIGINT
        names["modifiedon"] = DATETIME
        return names

    def navigation(self, name: str) -> tuple[Lookup, str] | None:
        """The lookup written by navigation property ``name`` and its target set, if any."""
        for lookup in self.lookups:
            if name in lookup.targets:
                return lookup, lookup.targets[name]
        return None


_ADDRESS = {
    "address1_line1": 250,
    "address1_line2": 250,
    "address1_city": 80,
    "address1_stateorprovince": 50,
    "address1_postalcode": 20,
    "address1_country": 80,
}

#: The phone, fax, e-mail and web site columns accounts and contacts both have, alike.
_CONTACT_DETAILS = {
    "telephone1": 50,
    "fax": 50,
    "emailaddress1": 100,
    "websiteurl": 200,
}

_OWNER = Lookup("ownerid", {"ownerid": "systemusers"})
_CURRENCY = Lookup("transactioncurrencyid", {"transactioncurrencyid": "transactioncurrencies"})


def _state_and_status(table: str) -> dict[str, Choice]:
    """The standard Active/Inactive state and status columns of a table."""
    return {
        "statecode": Choice("State", f"{table}_statecode", ((0, "Active"), (1, "Inactive"))),
        "statuscode": Choice("Status", f"{table}_statuscode", ((1, "Active"), (2, "Inactive")), {1: 0, 2: 1}),
    }


_ACCOUNT_STRINGS = {
    "name": 160,
    "accountnumber": 20,
    **_CONTACT_DETAILS,
    **_ADDRESS,
    "address1_primarycontactname": 100,
    # A custom column, as a customized organization has them (publisher prefix ``new_``): what a
    # config's custom field mapping is tried against (docs/coupling-and-sync.md, "Custom fields").
    "new_vatregistrationnumber": 20,
}

ACCOUNTS = Table(
    entity_set="accounts",
    logical_name="account",
    columns={
        **{name: STRING for name in _ACCOUNT_STRINGS},
        "creditlimit": DECIMAL,
        "paymenttermscode": INT,
        "customertypecode": INT,
        "statecode": INT,
        "statuscode": INT,
    },
    max_lengths=_ACCOUNT_STRINGS,
    lookups=(Lookup("primarycontactid", {"primarycontactid": "contacts"}), _CURRENCY, _OWNER),
    primary_name="name",
    object_type_code=1,
    choices={
        "paymenttermscode": Choice(
            "Picklist", "account_paymenttermscode", ((1, "Net 30"), (2, "2% 10, Net 30"), (3, "Net 45"), (4, "Net 60"))
        ),
        "customertypecode": Choice(
            "Picklist",
            "account_customertypecode",
            (
                (1, "Competitor"),
                (2, "Consultant"),
                (3, "Customer"),
                (4, "Investor"),
                (5, "Partner"),
                (6, "Influencer"),
                (7, "Press"),
                (8, "Prospect"),
                (9, "Reseller"),
                (10, "Supplier"),
                (11, "Vendor"),
                (12, "Other"),
            ),
        ),
        **_state_and_status("account"),
    },
    money=frozenset({"creditlimit"}),
    # The key Microsoft's own example defines (docs/sandbox-fidelity.md, "Alternate keys and upsert").
    alternate_key=("new_AccountNumberKey", ("accountnumber",)),
)

_CONTACT_STRINGS = {
    "firstname": 50,
    "middlename": 50,
    "lastname": 50,
    **_CONTACT_DETAILS,
    "mobilephone": 50,
    "jobtitle": 100,
    **_ADDRESS,
    # A custom column holding another system's id, the usual column of a customized alternate key.
    "new_externalid": 100,
}

CONTACTS = Table(
    entity_set="contacts",
    logical_name="contact",
    columns={**{name: STRING for name in _CONTACT_STRINGS}, "statecode": INT, "statuscode": INT},
    max_lengths=_CONTACT_STRINGS,
    lookups=(
        Lookup(
            "parentcustomerid",
            {"parentcustomerid_account": "accounts", "parentcustomerid_contact": "contacts"},
        ),
        _CURRENCY,
        _OWNER,
    ),
    computed={"fullname": STRING},
    primary_name="fullname",
    object_type_code=2,
    choices=_state_and_status("contact"),
    alternate_key=("new_ExternalIdKey", ("new_externalid",)),
)

SYSTEMUSERS = Table(
    entity_set="systemusers",
    logical_name="systemuser",
    columns={"fullname": STRING, "domainname": STRING},
    max_lengths={"fullname": 200, "domainname": 1024},
    writable=False,
    primary_name="fullname",
    object_type_code=8,
)

#: The tables by entity set name.
TABLES: dict[str, Table] = {t.entity_set: t for t in (ACCOUNTS, CONTACTS, SYSTEMUSERS)}

#: Entity sets that lookups may point at but that the sandbox does not store (binds to them
#: are accepted without an existence check).
UNSTORED_TARGETS = frozenset({"transactioncurrencies", "teams"})

#: Entity set -> logical name, for ``@Microsoft.Dynamics.CRM.lookuplogicalname``.
LOGICAL_NAMES = {
    **{t.entity_set: t.logical_name for t in TABLES.values()},
    "transactioncurrencies": "transactioncurrency",
    "teams": "team",
}


def contact_fullname(row: Mapping[str, object]) -> str | None:
    """``fullname`` as Dataverse computes it on every write of a contact.

    The format is an organization setting (``FullNameConventionCode``); the sandbox's
    organization uses "First Last" (value 1), as its demo data does: the middle name is not
    part of it.
    """
    parts = [str(row[p]).strip() for p in ("firstname", "lastname") if row.get(p)]
    text = " ".join(p for p in parts if p)
    return text or None
