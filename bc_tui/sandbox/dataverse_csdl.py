"""The Dataverse ``$metadata`` document (OData CSDL XML) for exactly what the sandbox serves.

Built from ``dataverse_tables.TABLES`` (the data tables, their properties, keys and lookups)
and ``dataverse_definitions`` (the ``EntityMetadata``/``AttributeMetadata`` types behind
``EntityDefinitions``), in the namespace ``Microsoft.Dynamics.CRM`` with alias ``mscrm`` and
the entity container ``System``, as the real service names them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import lru_cache
from typing import Any

from .dataverse_definitions import ATTRIBUTE_NAVIGATION, CRM, attributes, entity
from .dataverse_tables import DATETIME, DECIMAL, TABLES

EDMX_NS = "http://docs.oasis-open.org/odata/ns/edmx"
EDM_NS = "http://docs.oasis-open.org/odata/ns/edm"


def _property(parent: ET.Element, name: str, edm: str, nullable: bool = True) -> None:
    attrs = {"Name": name, "Type": edm}
    if edm == DECIMAL:
        attrs["Scale"] = "Variable"
    if edm == DATETIME:
        attrs["Precision"] = "0"  # Dataverse keeps whole seconds
    if not nullable:
        attrs["Nullable"] = "false"
    ET.SubElement(parent, "Property", attrs)


def _complex_type_of(name: str, value: dict[str, Any]) -> str:
    if "LocalizedLabels" in value:
        return "mscrm.Label"
    if "CanBeChanged" in value:
        return (
            "mscrm.BooleanManagedProperty"
            if isinstance(value.get("Value"), bool)
            else "mscrm.AttributeRequiredLevelManagedProperty"
        )
    return "mscrm.ValueHolder"


def _edm_of(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "Edm.Boolean"
    if isinstance(value, int):
        return "Edm.Int64" if abs(value) > 2**31 else "Edm.Int32"
    if isinstance(value, float):
        return "Edm.Double"
    if isinstance(value, dict):
        return _complex_type_of(name, value)
    if isinstance(value, list):
        return "Collection(Edm.String)"
    if name == "MetadataId":
        return "Edm.Guid"
    return "Edm.String"


def _metadata_types(schema: ET.Element) -> None:
    """``EntityMetadata``, ``AttributeMetadata`` and its derived types, as the served definitions use them."""
    label = ET.SubElement(schema, "ComplexType", {"Name": "LocalizedLabel"})
    for name, edm in (
        ("Label", "Edm.String"),
        ("LanguageCode", "Edm.Int32"),
        ("IsManaged", "Edm.Boolean"),
        ("MetadataId", "Edm.Guid"),
        ("HasChanged", "Edm.Boolean"),
    ):
        _property(label, name, edm)
    labels = ET.SubElement(schema, "ComplexType", {"Name": "Label"})
    _property(labels, "LocalizedLabels", "Collection(mscrm.LocalizedLabel)")
    _property(labels, "UserLocalizedLabel", "mscrm.LocalizedLabel")
    for name, value_type in (
        ("BooleanManagedProperty", "Edm.Boolean"),
        ("AttributeRequiredLevelManagedProperty", "Edm.String"),
    ):
        managed = ET.SubElement(schema, "ComplexType", {"Name": name})
        for prop, edm in (
            ("Value", value_type),
            ("CanBeChanged", "Edm.Boolean"),
            ("ManagedPropertyLogicalName", "Edm.String"),
        ):
            _property(managed, prop, edm)
    holder = ET.SubElement(schema, "ComplexType", {"Name": "ValueHolder"})
    _property(holder, "Value", "Edm.String")

    first = next(iter(TABLES))
    entity_type = ET.SubElement(schema, "EntityType", {"Name": "EntityMetadata"})
    ET.SubElement(ET.SubElement(entity_type, "Key"), "PropertyRef", {"Name": "MetadataId"})
    for name, value in entity(first).items():
        _property(entity_type, name, _edm_of(name, value), nullable=name != "MetadataId")
    for nav in ("Attributes", "Keys"):
        ET.SubElement(
            entity_type,
            "NavigationProperty",
            {
                "Name": nav,
                "Type": f"Collection(mscrm.{'AttributeMetadata' if nav == 'Attributes' else 'EntityKeyMetadata'})",
            },
        )
    key_type = ET.SubElement(schema, "EntityType", {"Name": "EntityKeyMetadata"})
    ET.SubElement(ET.SubElement(key_type, "Key"), "PropertyRef", {"Name": "MetadataId"})
    _property(key_type, "MetadataId", "Edm.Guid", nullable=False)

    by_type: dict[str, dict[str, Any]] = {}
    for entity_set in TABLES:
        for attribute in attributes(entity_set):
            by_type.setdefault(attribute.odata_type, {}).update(attribute.body)
    common = set.intersection(*(set(body) for body in by_type.values())) - {"@odata.type"}
    sample = next(iter(by_type.values()))
    base = ET.SubElement(schema, "EntityType", {"Name": "AttributeMetadata"})
    ET.SubElement(ET.SubElement(base, "Key"), "PropertyRef", {"Name": "MetadataId"})
    for name in sorted(common):
        _property(base, name, _edm_of(name, sample[name]), nullable=name != "MetadataId")
    for type_name, body in sorted(by_type.items()):
        derived = ET.SubElement(schema, "EntityType", {"Name": type_name, "BaseType": "mscrm.AttributeMetadata"})
        for name in sorted(set(body) - common - {"@odata.type"}):
            _property(derived, name, _edm_of(name, body[name]))
        if type_name in ("PicklistAttributeMetadata", "StateAttributeMetadata", "StatusAttributeMetadata"):
            for nav in ATTRIBUTE_NAVIGATION:
                ET.SubElement(derived, "NavigationProperty", {"Name": nav, "Type": "mscrm.OptionSetMetadata"})
    option_set = ET.SubElement(schema, "EntityType", {"Name": "OptionSetMetadata"})
    ET.SubElement(ET.SubElement(option_set, "Key"), "PropertyRef", {"Name": "MetadataId"})
    for name, edm in (
        ("MetadataId", "Edm.Guid"),
        ("Name", "Edm.String"),
        ("OptionSetType", "Edm.String"),
        ("IsGlobal", "Edm.Boolean"),
        ("Options", "Collection(mscrm.OptionMetadata)"),
    ):
        _property(option_set, name, edm, nullable=name != "MetadataId")
    option = ET.SubElement(schema, "ComplexType", {"Name": "OptionMetadata"})
    for name, edm in (
        ("Value", "Edm.Int32"),
        ("Label", "mscrm.Label"),
        ("Description", "mscrm.Label"),
        ("State", "Edm.Int32"),
    ):
        _property(option, name, edm)


@lru_cache(maxsize=1)
def csdl_document() -> str:
    """The whole ``$metadata`` document as XML text."""
    ET.register_namespace("edmx", EDMX_NS)
    root = ET.Element(f"{{{EDMX_NS}}}Edmx", {"Version": "4.0"})
    services = ET.SubElement(root, f"{{{EDMX_NS}}}DataServices")
    schema = ET.SubElement(services, "Schema", {"Namespace": CRM, "Alias": "mscrm", "xmlns": EDM_NS})
    ET.SubElement(schema, "EntityType", {"Name": "crmbaseentity", "Abstract": "true"})
    for table in TABLES.values():
        entity_type = ET.SubElement(
            schema, "EntityType", {"Name": table.logical_name, "BaseType": "mscrm.crmbaseentity"}
        )
        ET.SubElement(ET.SubElement(entity_type, "Key"), "PropertyRef", {"Name": table.primary_key})
        for name, edm in table.properties.items():
            _property(entity_type, name, edm, nullable=name != table.primary_key)
        for lookup in table.lookups:
            for navigation, target_set in lookup.targets.items():
                # Only lookups to tables the sandbox serves get a navigation property to follow.
                target = TABLES.get(target_set)
                if target is None:
                    continue
                nav = ET.SubElement(
                    entity_type, "NavigationProperty", {"Name": navigation, "Type": f"mscrm.{target.logical_name}"}
                )
                ET.SubElement(
                    nav,
                    "ReferentialConstraint",
                    {"Property": lookup.value_field, "ReferencedProperty": target.primary_key},
                )
    who = ET.SubElement(schema, "ComplexType", {"Name": "WhoAmIResponse"})
    for name in ("BusinessUnitId", "UserId", "OrganizationId"):
        _property(who, name, "Edm.Guid", nullable=False)
    function = ET.SubElement(schema, "Function", {"Name": "WhoAmI"})
    ET.SubElement(function, "ReturnType", {"Type": "mscrm.WhoAmIResponse", "Nullable": "false"})
    _metadata_types(schema)

    container = ET.SubElement(schema, "EntityContainer", {"Name": "System"})
    for table in TABLES.values():
        entity_set = ET.SubElement(
            container, "EntitySet", {"Name": table.entity_set, "EntityType": f"{CRM}.{table.logical_name}"}
        )
        for lookup in table.lookups:
            for navigation, target_set in lookup.targets.items():
                if target_set in TABLES:
                    ET.SubElement(entity_set, "NavigationPropertyBinding", {"Path": navigation, "Target": target_set})
    ET.SubElement(container, "EntitySet", {"Name": "EntityDefinitions", "EntityType": f"{CRM}.EntityMetadata"})
    ET.SubElement(
        container,
        "FunctionImport",
        {"Name": "WhoAmI", "Function": f"{CRM}.WhoAmI", "IncludeInServiceDocument": "false"},
    )
    return '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root, encoding="unicode")
