"""Table definitions (``EntityMetadata``, ``AttributeMetadata``, option sets) of the served tables.

Everything here is derived from ``dataverse_tables.TABLES``, the one description of what the
sandbox serves: a table or column added there shows up in ``EntityDefinitions`` and in
``$metadata`` without further work. Only descriptive facts the API itself never needs (display
labels, schema names, ownership) are spelled out here, per table.

The shapes follow Microsoft's reference for the ``EntityMetadata`` and ``AttributeMetadata``
entity types of the Web API: every definition carries ``MetadataId``; labels are ``Label``
complex values with ``LocalizedLabels`` and ``UserLocalizedLabel``; managed properties are
``{"Value", "CanBeChanged", "ManagedPropertyLogicalName"}``; an attribute's derived type is
named by ``@odata.type`` (``#Microsoft.Dynamics.CRM.StringAttributeMetadata``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

from .dataverse_tables import BIGINT, DATETIME, DECIMAL, GUID, INT, LOGICAL_NAMES, STRING, TABLES, Lookup, Table
from .settings import SANDBOX_NAMESPACE

CRM = "Microsoft.Dynamics.CRM"
#: The publisher prefix of the sandbox's custom columns (the default publisher's).
CUSTOM_PREFIX = "new_"
#: The organization's base language (English, United States).
LANGUAGE = 1033


@dataclass(frozen=True)
class _TableFacts:
    schema_name: str
    display_name: str
    display_collection_name: str
    ownership: str


#: Descriptive facts of the standard tables the sandbox serves (names as on every real org).
_FACTS = {
    "account": _TableFacts("Account", "Account", "Accounts", "UserOwned"),
    "contact": _TableFacts("Contact", "Contact", "Contacts", "UserOwned"),
    "systemuser": _TableFacts("SystemUser", "User", "Users", "BusinessOwned"),
}


def _id(*parts: str) -> str:
    """A stable MetadataId: the same table or column has the same id in every sandbox."""
    return str(uuid.uuid5(SANDBOX_NAMESPACE, "dataverse:metadata:" + ":".join(parts)))


def label(text: str, *key: str) -> dict[str, Any]:
    """A ``Label`` complex value in the organization's language."""
    localized = {
        "Label": text,
        "LanguageCode": LANGUAGE,
        "IsManaged": True,
        "MetadataId": _id("label", *key),
        "HasChanged": None,
    }
    return {"LocalizedLabels": [localized], "UserLocalizedLabel": dict(localized)}


def _managed(value: Any, name: str, can_be_changed: bool = True) -> dict[str, Any]:
    return {"Value": value, "CanBeChanged": can_be_changed, "ManagedPropertyLogicalName": name}


def _humanize(logical_name: str) -> str:
    """A readable display name derived from a column's logical name (``address1_city`` -> ``Address 1: City``)."""
    head, _, tail = logical_name.partition("_")
    if tail and head[-1:].isdigit():
        stem = head.rstrip("0123456789")
        return f"{stem.capitalize()} {head[len(stem) :]}: {tail.replace('_', ' ').capitalize()}"
    return logical_name.replace("_", " ").capitalize()


def _string_format(name: str) -> str:
    # The real service formats these columns as e-mail, phone and URL; the rest is plain text.
    if name.startswith("emailaddress"):
        return "Email"
    if name.startswith(("telephone", "mobilephone", "fax")):
        return "Phone"
    if name == "websiteurl":
        return "Url"
    return "Text"


# ============================================================ option sets


def option_set(table: Table, column: str) -> dict[str, Any]:
    """The ``OptionSetMetadata`` of a choice, state or status column (what ``$expand=OptionSet`` returns)."""
    choice = table.choices[column]
    kind = {"Picklist": "Picklist", "State": "State", "Status": "Status"}[choice.kind]
    options = []
    for value, text in choice.options:
        option: dict[str, Any] = {
            "Value": value,
            "Color": None,
            "IsManaged": True,
            "ExternalValue": None,
            "ParentValues": [],
            "Tag": None,
            "IsHidden": False,
            "MetadataId": None,
            "HasChanged": None,
            "Label": label(text, table.logical_name, column, str(value)),
            "Description": label("", table.logical_name, column, str(value), "d"),
        }
        if choice.kind == "State":
            option["@odata.type"] = f"#{CRM}.StateOptionMetadata"
            option["DefaultStatus"] = next((s for s, st in _status_states(table).items() if st == value), None)
            option["InvariantName"] = text
        elif choice.kind == "Status":
            option["@odata.type"] = f"#{CRM}.StatusOptionMetadata"
            option["State"] = choice.states.get(value)
            option["TransitionData"] = None
        options.append(option)
    return {
        "MetadataId": _id("optionset", table.logical_name, column),
        "HasChanged": None,
        "IsCustomOptionSet": False,
        "IsGlobal": False,
        "IsManaged": True,
        "Name": choice.option_set,
        "ExternalTypeName": None,
        "OptionSetType": kind,
        "IntroducedVersion": "5.0.0.0",
        "ParentOptionSetName": None,
        "Description": label("", "optionset", table.logical_name, column, "d"),
        "DisplayName": label(_humanize(column), "optionset", table.logical_name, column),
        "IsCustomizable": _managed(True, "iscustomizable"),
        "Options": options,
    }


def _status_states(table: Table) -> dict[int, int]:
    for choice in table.choices.values():
        if choice.kind == "Status":
            return dict(choice.states)
    return {}


# ============================================================ attributes


@dataclass(frozen=True)
class Attribute:
    """One column's definition: its derived type, the properties of that type, and its option set."""

    table: Table
    logical_name: str
    odata_type: str  # e.g. "StringAttributeMetadata"
    body: dict[str, Any]

    @property
    def has_option_set(self) -> bool:
        return self.logical_name in self.table.choices


def _attribute_type(table: Table, name: str, edm: str, lookup: Lookup | None) -> tuple[str, str]:
    """(AttributeType, derived metadata type name) of a served column."""
    if lookup is not None:
        targets = {LOGICAL_NAMES.get(s, s) for s in lookup.targets.values()}
        if lookup.name == "ownerid":
            return "Owner", "LookupAttributeMetadata"
        if targets == {"account", "contact"}:
            return "Customer", "LookupAttributeMetadata"
        return "Lookup", "LookupAttributeMetadata"
    if name == table.primary_key:
        return "Uniqueidentifier", "UniqueIdentifierAttributeMetadata"
    if name in table.choices:
        kind = table.choices[name].kind
        return kind, f"{kind}AttributeMetadata"
    if name in table.money:
        return "Money", "MoneyAttributeMetadata"
    return {
        STRING: ("String", "StringAttributeMetadata"),
        DECIMAL: ("Decimal", "DecimalAttributeMetadata"),
        INT: ("Integer", "IntegerAttributeMetadata"),
        GUID: ("Uniqueidentifier", "UniqueIdentifierAttributeMetadata"),
        DATETIME: ("DateTime", "DateTimeAttributeMetadata"),
        BIGINT: ("BigInt", "BigIntAttributeMetadata"),
    }[edm]


def _type_specific(table: Table, name: str, attribute_type: str, lookup: Lookup | None) -> dict[str, Any]:
    if attribute_type == "String":
        length = table.max_lengths.get(name, 100)
        fmt = _string_format(name)
        return {
            "MaxLength": length,
            "DatabaseLength": length * 2,
            "Format": fmt,
            "FormatName": {"Value": fmt},
            "ImeMode": "Auto",
            "IsLocalizable": False,
            "YomiOf": None,
            "FormulaDefinition": None,
        }
    if attribute_type == "Money":
        return {
            "Precision": 2,
            "PrecisionSource": 2,
            "MinValue": -922337203685477.0,
            "MaxValue": 922337203685477.0,
            "ImeMode": "Auto",
            "IsBaseCurrency": False,
            "CalculationOf": None,
            "FormulaDefinition": None,
        }
    if attribute_type == "Decimal":
        return {"Precision": 2, "MinValue": -100000000000.0, "MaxValue": 100000000000.0, "ImeMode": "Auto"}
    if attribute_type == "Integer":
        return {"Format": "None", "MinValue": -2147483648, "MaxValue": 2147483647}
    if attribute_type in ("Picklist", "State", "Status"):
        # The options themselves are the OptionSet navigation property ($expand=OptionSet).
        return {"DefaultFormValue": -1 if attribute_type == "Picklist" else None}
    if lookup is not None:
        return {"Targets": sorted({LOGICAL_NAMES.get(s, s) for s in lookup.targets.values()}), "Format": "None"}
    if attribute_type == "DateTime":
        return {
            "Format": "DateAndTime",
            "DateTimeBehavior": {"Value": "UserLocal"},
            "ImeMode": "Inactive",
            "CanChangeDateTimeBehavior": _managed(False, "canchangedatetimebehavior", False),
        }
    if attribute_type == "BigInt":
        return {"MinValue": -9223372036854775808, "MaxValue": 9223372036854775807}
    return {}


def _attribute(table: Table, name: str, edm: str, lookup: Lookup | None, column_number: int) -> Attribute:
    attribute_type, odata_type = _attribute_type(table, name, edm, lookup)
    system = name in ("versionnumber", "modifiedon")
    computed = name in table.computed
    is_key = name == table.primary_key
    can_write = table.writable and not (system or computed)
    required = (
        "SystemRequired"
        if is_key or name in ("statecode", "statuscode", "ownerid")
        else ("ApplicationRequired" if name == table.primary_name and not computed else "None")
    )
    body: dict[str, Any] = {
        "@odata.type": f"#{CRM}.{odata_type}",
        "MetadataId": _id("attribute", table.logical_name, name),
        "HasChanged": None,
        "LogicalName": name,
        "SchemaName": name,
        "EntityLogicalName": table.logical_name,
        "AttributeType": attribute_type,
        "AttributeTypeName": {"Value": f"{attribute_type}Type"},
        "AttributeOf": None,
        "ColumnNumber": column_number,
        "DisplayName": label(_humanize(name), table.logical_name, name),
        "Description": label("", table.logical_name, name, "d"),
        "IsPrimaryId": is_key,
        "IsPrimaryName": name == table.primary_name,
        "IsCustomAttribute": name.startswith(CUSTOM_PREFIX),
        "IsManaged": True,
        "IsLogical": False,
        "IsValidODataAttribute": True,
        "IsValidForCreate": can_write,
        "IsValidForUpdate": can_write and not is_key,
        "IsValidForRead": True,
        "IsValidForForm": not system,
        "IsValidForGrid": not system,
        "IsFilterable": True,
        "IsSearchable": True,
        "IsRetrievable": True,
        "IsSecured": False,
        "IsRequiredForForm": False,
        "IsSortableEnabled": _managed(True, "canmodifyissortablesettings"),
        "IsValidForAdvancedFind": _managed(not system or name == "modifiedon", "canmodifysearchsettings"),
        "IsAuditEnabled": _managed(not system, "canmodifyauditsettings"),
        "IsCustomizable": _managed(True, "iscustomizable"),
        "IsRenameable": _managed(True, "isrenameable"),
        "RequiredLevel": _managed(required, "canmodifyrequirementlevelsettings", not is_key),
        "IntroducedVersion": "5.0.0.0",
        "SourceType": 0 if not computed else 1,
    }
    body.update(_type_specific(table, name, attribute_type, lookup))
    return Attribute(table, name, odata_type, body)


@cache
def attributes(entity_set: str) -> tuple[Attribute, ...]:
    """Every column the sandbox serves for the table, as ``AttributeMetadata``.

    A lookup appears once, under its own name (``primarycontactid``); the ``_…_value`` property
    the Web API shows is that column's value.
    """
    table = TABLES[entity_set]
    lookups = {lookup.value_field: lookup for lookup in table.lookups}
    result: list[Attribute] = []
    for number, (name, edm) in enumerate(table.properties.items(), start=1):
        lookup = lookups.get(name)
        result.append(_attribute(table, lookup.name if lookup else name, edm, lookup, number))
    return tuple(result)


def attribute_types() -> dict[str, set[str]]:
    """Derived attribute metadata type -> the base properties plus its own (for ``$select`` checks)."""
    types: dict[str, set[str]] = {}
    for entity_set in TABLES:
        for attribute in attributes(entity_set):
            types.setdefault(attribute.odata_type, set()).update(attribute.body)
    return types


# ============================================================ tables


@cache
def entity(entity_set: str) -> dict[str, Any]:
    """The ``EntityMetadata`` of a served table, without its navigation properties."""
    table = TABLES[entity_set]
    facts = _FACTS[table.logical_name]
    name = table.logical_name
    return {
        "MetadataId": _id("entity", name),
        "HasChanged": None,
        "LogicalName": name,
        "SchemaName": facts.schema_name,
        "EntitySetName": table.entity_set,
        "LogicalCollectionName": table.entity_set,
        "CollectionSchemaName": facts.schema_name + "s",
        "ObjectTypeCode": table.object_type_code,
        "PrimaryIdAttribute": table.primary_key,
        "PrimaryNameAttribute": table.primary_name,
        "PrimaryImageAttribute": None,
        "DisplayName": label(facts.display_name, name),
        "DisplayCollectionName": label(facts.display_collection_name, name, "collection"),
        "Description": label("", name, "d"),
        "OwnershipType": facts.ownership,
        "TableType": "Standard",
        "IntroducedVersion": "5.0.0.0",
        "IsActivity": False,
        "IsActivityParty": True,
        "IsAvailableOffline": True,
        "IsBPFEntity": False,
        "IsChildEntity": False,
        "IsCustomEntity": False,
        "IsIntersect": False,
        "IsLogicalEntity": False,
        "IsManaged": True,
        "IsPrivate": False,
        "IsStateModelAware": bool(table.choices.get("statecode")),
        "IsValidForAdvancedFind": True,
        "IsKnowledgeManagementEnabled": False,
        "IsReadOnlyInMobileClient": _managed(not table.writable, "canmodifymobileclientreadonly"),
        "ChangeTrackingEnabled": True,
        "HasActivities": table.writable,
        "HasNotes": table.writable,
        "HasEmailAddresses": any(n.startswith("emailaddress") for n in table.columns),
        "IsAuditEnabled": _managed(True, "canmodifyauditsettings"),
        "IsCustomizable": _managed(True, "iscustomizable"),
        "IsRenameable": _managed(True, "isrenameable"),
        "CanCreateAttributes": _managed(True, "cancreateattributes"),
    }


#: Navigation properties of ``EntityMetadata`` (never part of a plain answer; ``$expand`` only).
ENTITY_NAVIGATION = (
    "Attributes",
    "Keys",
    "ManyToOneRelationships",
    "OneToManyRelationships",
    "ManyToManyRelationships",
    "Privileges",
)
#: Navigation properties of choice, state and status attributes.
ATTRIBUTE_NAVIGATION = ("OptionSet", "GlobalOptionSet")


def entity_properties() -> set[str]:
    """The structural properties of ``EntityMetadata`` the sandbox shows."""
    return set(entity(next(iter(TABLES))))
