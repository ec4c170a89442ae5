"""The Business Central API v2.0 entities the sandbox serves: fields, validation, JSON shape.

Stored rows hold exactly the API's JSON field names plus ``_company`` (the owning company's
id) and the store's ``_version``/``_modified``. This module turns a stored row into what a
client sees (``@odata.etag``, ``lastModifiedDateTime``, no underscore fields) and checks a
client's POST/PATCH body the way BC's API pages do (unknown and read-only properties, types,
option values, field lengths, Code fields upper-cased).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .http import ApiError
from .precision import bc_modified

#: How BC shows an empty GUID and an empty date.
BLANK_GUID = "00000000-0000-0000-0000-000000000000"
BLANK_DATE = "0001-01-01"

_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class FieldDef:
    """One property of an API entity.

    ``kind`` is ``text`` (Text[n]), ``code`` (Code[n]: upper-cased by BC), ``decimal``,
    ``bool``, ``option`` (one of ``options``), ``guid``, ``date`` or ``datetime``.
    """

    name: str
    kind: str = "text"
    length: int | None = None
    options: tuple[str, ...] = ()
    read_only: bool = False
    #: The value a new record starts with, when not the kind's blank value.
    initial: Any = None
    #: For an id of a record in another table (``currencyId``…): that table's name in BC's
    #: message when no such record exists. The sandbox has none of those tables, so only the
    #: blank GUID is accepted.
    refers_to: str | None = None

    @property
    def edm_type(self) -> str:
        return {
            "decimal": "Edm.Decimal",
            "bool": "Edm.Boolean",
            "guid": "Edm.Guid",
            "date": "Edm.Date",
            "datetime": "Edm.DateTimeOffset",
        }.get(self.kind, "Edm.String")

    def default(self) -> Any:
        if self.initial is not None:
            return self.initial
        if self.kind == "decimal":
            return 0.0
        if self.kind == "bool":
            return False
        if self.kind == "option":
            return self.options[0]
        if self.kind == "guid":
            return BLANK_GUID
        if self.kind == "date":
            return BLANK_DATE
        return ""


@dataclass(frozen=True)
class NumberSeries:
    """BC's No. Series for an entity: ``prefix`` + zero-padded counter, stepping by ``step``."""

    prefix: str
    width: int
    step: int
    #: The series' code in BC's messages (CRONUS's defaults).
    code: str = ""

    def format(self, value: int) -> str:
        return f"{self.prefix}{value:0{self.width}d}"

    def parse(self, number: str) -> int | None:
        """The counter value of ``number`` if it belongs to this series, else None."""
        if not number.startswith(self.prefix):
            return None
        digits = number[len(self.prefix) :]
        return int(digits) if len(digits) == self.width and digits.isdigit() else None


@dataclass(frozen=True)
class EntityDef:
    """An entity set under ``companies(…)/``: its store set, type name and properties."""

    name: str  # URL segment, e.g. "customers"
    type_name: str  # OData type, e.g. "customer"
    fields: Mapping[str, FieldDef]
    number_series: NumberSeries | None = None
    #: Default sort (stable paging); the id breaks ties.
    default_order: tuple[tuple[str, bool], ...] = (("number", False),)
    has_etag: bool = True
    company_scoped: bool = True

    @property
    def entity_set(self) -> str:
        """The store's set, e.g. ``bc/customers``."""
        return f"bc/{self.name}"

    @property
    def table_caption(self) -> str:
        """The BC table caption used in messages, e.g. ``Customer``."""
        return self.type_name.capitalize()

    @property
    def output_fields(self) -> tuple[str, ...]:
        return tuple(self.fields)


def _fields(*defs: FieldDef, modified: bool = True) -> dict[str, FieldDef]:
    """The properties of an entity: its ``id`` first, then ``defs``, then (when ``modified``)
    ``lastModifiedDateTime``, as BC API v2.0 lists them."""
    last = (FieldDef("lastModifiedDateTime", "datetime", read_only=True),) if modified else ()
    return {d.name: d for d in (FieldDef("id", "guid", read_only=True), *defs, *last)}


_ADDRESS = (
    FieldDef("addressLine1", length=100),
    FieldDef("addressLine2", length=50),
    FieldDef("city", length=30),
    FieldDef("state", length=30),
    FieldDef("country", "code", length=10),
    FieldDef("postalCode", "code", length=20),
)

CUSTOMERS = EntityDef(
    name="customers",
    type_name="customer",
    fields=_fields(
        FieldDef("number", "code", length=20),
        FieldDef("displayName", length=100),
        FieldDef("type", "option", options=("Company", "Person")),
        *_ADDRESS,
        FieldDef("phoneNumber", length=30),
        FieldDef("email", length=80),
        FieldDef("website", length=80),
        FieldDef("salespersonCode", "code", length=20),
        FieldDef("balanceDue", "decimal", read_only=True),
        FieldDef("creditLimit", "decimal"),
        FieldDef("taxLiable", "bool"),
        FieldDef("taxAreaId", "guid", refers_to="Tax Area"),
        FieldDef("taxAreaDisplayName", read_only=True),
        FieldDef("taxRegistrationNumber", length=20),
        FieldDef("currencyId", "guid", refers_to="Currency"),
        FieldDef("currencyCode", "code", length=10),
        FieldDef("paymentTermsId", "guid", refers_to="Payment Terms"),
        FieldDef("shipmentMethodId", "guid", refers_to="Shipment Method"),
        FieldDef("paymentMethodId", "guid", refers_to="Payment Method"),
        FieldDef("blocked", "option", options=(" ", "Ship", "Invoice", "All")),
    ),
    # CRONUS's CUST series: C00010, C00020, … (the demo customers are 10000, 20000, …).
    number_series=NumberSeries("C", 5, 10, code="CUST"),
)

CONTACTS = EntityDef(
    name="contacts",
    type_name="contact",
    fields=_fields(
        FieldDef("number", "code", length=20),
        FieldDef("type", "option", options=("Company", "Person")),
        FieldDef("displayName", length=100),
        FieldDef("companyNumber", "code", length=20),
        FieldDef("companyName", length=100),
        # Computed by BC from the contact's business relations: never written by a client.
        FieldDef("contactBusinessRelation", read_only=True, initial="None"),
        *_ADDRESS,
        FieldDef("phoneNumber", length=30),
        FieldDef("mobilePhoneNumber", length=30),
        FieldDef("email", length=80),
        FieldDef("website", length=80),
        # BC fills it from the name while it is blank or still the old name (see contact_search_name).
        FieldDef("searchName", "code", length=100),
        FieldDef("privacyBlocked", "bool"),
        FieldDef("taxRegistrationNumber", length=20),
        FieldDef("lastInteractionDate", "date", read_only=True),
    ),
    number_series=NumberSeries("CT", 6, 1, code="CONT"),
)

COMPANIES = EntityDef(
    name="companies",
    type_name="company",
    fields=_fields(
        FieldDef("systemVersion", read_only=True),
        FieldDef("name", read_only=True),
        FieldDef("displayName", read_only=True),
        FieldDef("businessProfileId", read_only=True),
        modified=False,
    ),
    default_order=(("name", False),),
    has_etag=False,
    company_scoped=False,
)

#: Entity sets under ``companies(…)/``, by URL segment.
COMPANY_ENTITIES: dict[str, EntityDef] = {e.name: e for e in (CUSTOMERS, CONTACTS)}


# --------------------------------------------------------------------------- output


def etag_of(row: Mapping[str, Any]) -> str:
    """A weak ETag in BC's shape (``W/"JzE5OzEyMzQ1Njc4OTsn"``) that changes with every version."""
    digits = str(row.get("_version", 0))
    token = f"'{len(digits)};{digits};00;'"
    return f'W/"{base64.b64encode(token.encode()).decode()}"'


def field_value(row: Mapping[str, Any], name: str, *, whole_seconds: bool = False) -> Any:
    """A property as the client sees it (``lastModifiedDateTime`` comes from ``_modified``,
    in milliseconds or ``whole_seconds``)."""
    if name == "lastModifiedDateTime":
        return bc_modified(row.get("_modified"), whole=whole_seconds)
    return row.get(name)


def _output_plan(entity: EntityDef) -> tuple[tuple[str, str, Any], ...]:
    """(property, stored field, value when absent) for every property, in output order."""
    plan = _PLANS.get(entity.name)
    if plan is None:
        plan = _PLANS[entity.name] = tuple(
            (name, "_modified", None) if name == "lastModifiedDateTime" else (name, name, fdef.default())
            for name, fdef in entity.fields.items()
        )
    return plan


_PLANS: dict[str, tuple[tuple[str, str, Any], ...]] = {}


def to_json(entity: EntityDef, row: Mapping[str, Any], *, whole_seconds: bool = False) -> dict[str, Any]:
    """The client's view of a stored row: annotations first, then every property in order
    (``lastModifiedDateTime`` in milliseconds, or ``whole_seconds``)."""
    out: dict[str, Any] = {"@odata.etag": etag_of(row)} if entity.has_etag else {}
    get = row.get
    for name, source, default in _output_plan(entity):
        value = get(source)
        out[name] = default if value is None else value
    if "lastModifiedDateTime" in out:
        out["lastModifiedDateTime"] = bc_modified(out["lastModifiedDateTime"], whole=whole_seconds)
    return out


# --------------------------------------------------------------------------- input


def _bad(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def _convert(entity: EntityDef, fdef: FieldDef, value: Any) -> Any:
    """Check one incoming value against its property; return the value to store."""
    if value is None:
        raise _bad(
            f"A null value was found for the property named '{fdef.name}', which has the expected type "
            f"'{fdef.edm_type}[Nullable=False]'. The expected type '{fdef.edm_type}[Nullable=False]' "
            "does not allow null values."
        )
    if fdef.kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _bad(f"Cannot convert the value of '{fdef.name}' to the expected type 'Edm.Decimal'.")
        return float(value)
    if fdef.kind == "bool":
        if not isinstance(value, bool):
            raise _bad(f"Cannot convert the value of '{fdef.name}' to the expected type 'Edm.Boolean'.")
        return value
    if fdef.kind == "guid":
        return _guid(fdef, value)
    if not isinstance(value, str):
        raise _bad(f"Cannot convert the value of '{fdef.name}' to the expected type 'Edm.String'.")
    if fdef.kind == "option":
        if value not in fdef.options:
            shown = ",".join(fdef.options)
            raise _bad(f"'{value}' is not an option. The existing options are: {shown}")
        return value
    if fdef.length is not None and len(value) > fdef.length:
        raise _bad(
            f"The length of the string is {len(value)}, but it must be less than or equal to "
            f"{fdef.length} characters. Value: {value}"
        )
    # Code fields are stored upper-case by BC whatever the client sends.
    return value.upper() if fdef.kind == "code" else value


def _guid(fdef: FieldDef, value: Any) -> str:
    """A GUID property's value, lower-cased; an id of a record the sandbox lacks is BC's error."""
    if not isinstance(value, str) or not _GUID_RE.match(value):
        raise _bad(f"Cannot convert the literal '{value}' to the expected type 'Edm.Guid'.")
    guid = value.lower()
    if fdef.refers_to is not None and guid != BLANK_GUID:
        # The AL page's own label (an Error() in its OnValidate), hence BC's dialog code.
        raise ApiError(400, "Application_DialogException", f'The "{fdef.name}" does not match to a {fdef.refers_to}.')
    return guid


def validate_body(entity: EntityDef, body: Any) -> dict[str, Any]:
    """The changes a POST/PATCH body asks for, checked and converted; raise ApiError(400).

    Instance annotations (``@odata.etag`` and the like) are ignored, as OData does.
    """
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object with the properties to set.")
    changes: dict[str, Any] = {}
    for name, value in body.items():
        if name.startswith("@") or "@" in name:
            continue
        fdef = entity.fields.get(name)
        if fdef is None:
            raise _bad(
                f"The property '{name}' does not exist on type 'Microsoft.NAV.{entity.type_name}'. "
                "Make sure to only use property names that are defined by the type."
            )
        if fdef.read_only:
            raise _bad(f"The property '{name}' is read-only and cannot be set.")
        changes[name] = _convert(entity, fdef, value)
    return changes


def fill_search_name(old: Mapping[str, Any], changes: dict[str, Any]) -> None:
    """BC's rule for a contact's Search Name: a new name carries over while the search name is
    blank or still the old name (upper-cased: it is a Code field), unless the client sets it."""
    if "displayName" not in changes or "searchName" in changes:
        return
    current = old.get("searchName") or ""
    if not current or current == (old.get("displayName") or "").upper():
        changes["searchName"] = changes["displayName"].upper()


def new_row(entity: EntityDef, changes: Mapping[str, Any]) -> dict[str, Any]:
    """A full stored row for a create: every property at its default, then ``changes``."""
    row: dict[str, Any] = {}
    for name, fdef in entity.fields.items():
        if fdef.kind == "datetime":
            continue  # lastModifiedDateTime comes from the store's _modified
        row[name] = fdef.default()
    row.update(changes)
    return row


def unknown_property(entity: EntityDef, name: str) -> ApiError:
    """BC's error for a $filter/$select/$orderby naming a property the type lacks."""
    return _bad(f"Could not find a property named '{name}' on type 'Microsoft.NAV.{entity.type_name}'.")


__all__ = [
    "BLANK_DATE",
    "BLANK_GUID",
    "COMPANIES",
    "COMPANY_ENTITIES",
    "CONTACTS",
    "CUSTOMERS",
    "EntityDef",
    "FieldDef",
    "NumberSeries",
    "etag_of",
    "field_value",
    "fill_search_name",
    "new_row",
    "to_json",
    "unknown_property",
    "validate_body",
]
