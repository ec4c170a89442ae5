"""Dataverse table definitions over the Web API: ``EntityDefinitions``, ``Attributes``, ``$metadata``.

Serves, read-only, the definitions built by ``dataverse_definitions`` (derived from the tables
the sandbox serves):

- ``EntityDefinitions`` with ``$select``, ``$filter`` and ``$expand=Attributes(…)``;
- ``EntityDefinitions(LogicalName='account')`` and ``EntityDefinitions(<MetadataId>)``;
- ``…/Attributes`` (optionally cast to a derived type such as
  ``Microsoft.Dynamics.CRM.PicklistAttributeMetadata``), ``…/Attributes(LogicalName='name')``,
  ``…/Attributes(<MetadataId>)``, with ``$select``, ``$filter`` and ``$expand=OptionSet``;
- ``…/Keys`` (each writable table's one alternate key, see ``dataverse_keys``);
- ``$metadata`` (CSDL, see ``dataverse_csdl``).

``$filter`` takes ``eq``/``ne``/``and``/``or``/``not`` and parentheses, enum literals
(``Microsoft.Dynamics.CRM.AttributeTypeCode'Picklist'`` or plain ``'Picklist'``) and one level of
complex property (``IsCustomizable/Value eq true``). Other query options, functions, writes and
the relationship navigation properties answer an OData error, never a silent 200.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from .dataverse_csdl import csdl_document
from .dataverse_definitions import (
    ATTRIBUTE_NAVIGATION,
    CRM,
    ENTITY_NAVIGATION,
    Attribute,
    attribute_types,
    attributes,
    entity,
    entity_properties,
    label,
    option_set,
)
from .dataverse_keys import key_definitions
from .dataverse_tables import TABLES
from .http import ApiError, ApiRequest, ApiResponse
from .odata_query import QueryError, parse_filter

E_BAD_REQUEST = "0x80060888"
E_NOT_FOUND = "0x80040217"

#: Query options a metadata query understands; the others are refused.
_ALLOWED_OPTIONS = frozenset({"$select", "$filter", "$expand"})
#: The derived attribute types of the Web API (a cast to one the served tables lack finds nothing).
_KNOWN_ATTRIBUTE_TYPES = frozenset(
    f"{name}AttributeMetadata"
    for name in (
        "BigInt",
        "Boolean",
        "DateTime",
        "Decimal",
        "Double",
        "EntityName",
        "File",
        "Image",
        "Integer",
        "Lookup",
        "ManagedProperty",
        "Memo",
        "Money",
        "MultiSelectPicklist",
        "Picklist",
        "State",
        "Status",
        "String",
        "UniqueIdentifier",
        "Virtual",
        "Enum",
    )
)
_CHOICE_TYPES = frozenset(
    {
        "PicklistAttributeMetadata",
        "StateAttributeMetadata",
        "StatusAttributeMetadata",
        "MultiSelectPicklistAttributeMetadata",
        "EnumAttributeMetadata",
    }
)

_KEY_RE = re.compile(r"^(?P<name>[A-Za-z]+)(?:\((?P<key>[^()]*)\))?$")
_LITERAL_OR_PATH_RE = re.compile(
    r"('(?:[^']|'')*')|Microsoft\.Dynamics\.CRM\.[A-Za-z]+(?=')|\b([A-Za-z_]\w*)/([A-Za-z_]\w*)\b"
)
_LITERAL_RE = re.compile(r"'(?:[^']|'')*'")
_NAME_RE = re.compile(r"\b[A-Za-z_]\w*\b")
_FUNCTION_RE = re.compile(r"\b([A-Za-z_][\w.]*)\s*\(")
_GUID_RE = re.compile(r"\b[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\b")
_KEYWORDS = frozenset({"eq", "ne", "gt", "ge", "lt", "le", "and", "or", "not", "true", "false", "null"})


def _bad(message: str) -> ApiError:
    return ApiError(400, E_BAD_REQUEST, message)


_Item = TypeVar("_Item")


def _find_by_key(
    key: str,
    metadata_type: str,
    items: Iterable[_Item],
    *,
    logical_name: Callable[[_Item], str],
    metadata_id: Callable[[_Item], str],
    by_name: str,
    by_id: str,
) -> _Item:
    """The item of metadata that ``key`` names: ``LogicalName='x'`` or its MetadataId (a GUID).

    ``by_name`` / ``by_id``: the 404 sentence when nothing matches, ``{}`` standing for the key's value.
    """
    name, sep, value = key.partition("=")
    if sep:
        if name.strip() != "LogicalName":
            raise _bad(f"'{name.strip()}' is not a key of {metadata_type}; use LogicalName or the MetadataId.")
        wanted, key_of, missing = value.strip().strip("'"), logical_name, by_name
    else:
        try:
            wanted = str(uuid.UUID(key.strip()))
        except ValueError:
            raise _bad(f"The key value '{key}' is not a valid MetadataId.") from None
        key_of, missing = metadata_id, by_id
    for item in items:
        if key_of(item) == wanted:
            return item
    raise ApiError(404, E_NOT_FOUND, missing.format(wanted))


def _not_supported(what: str) -> ApiError:
    return ApiError(501, E_BAD_REQUEST, f"The sandbox does not emulate {what}.")


# ============================================================ query options


def _split_top(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside parentheses and quotes."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and ch == sep:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _check_options(options: Mapping[str, str]) -> None:
    for name in options:
        if name.startswith("$") and name not in _ALLOWED_OPTIONS:
            raise _bad(f"The query parameter {name} is not supported for metadata queries.")


def _parse_select(text: str | None, allowed: set[str], type_name: str) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        if name not in allowed:
            raise _bad(f"Could not find a property named '{name}' on type '{CRM}.{type_name}'.")
    return names


def _flatten(body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` with complex ``{"Value": …}`` properties also reachable as ``Name__Value`` (``Name/Value``)."""
    flat = dict(body)
    for name, value in body.items():
        if isinstance(value, dict) and "Value" in value:
            flat[f"{name}__Value"] = value["Value"]
    return flat


def _compile_filter(text: str | None, allowed: set[str], type_name: str) -> Callable[[Mapping[str, Any]], bool] | None:
    """A predicate over flattened definitions; raise a 400 for unknown properties and functions."""
    if text is None:
        return None

    def rewrite(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return match.group(1)
        if match.group(2) is not None:
            return f"{match.group(2)}__{match.group(3)}"
        return ""  # the enum type prefix: its literal compares as the member's name

    rewritten = _LITERAL_OR_PATH_RE.sub(rewrite, text)
    bare = _GUID_RE.sub("0", _LITERAL_RE.sub("''", rewritten))
    for function in _FUNCTION_RE.finditer(bare):
        if function.group(1).lower() not in _KEYWORDS:
            raise _bad(f"The function '{function.group(1)}' is not supported for metadata queries.")
    flat_allowed = set(allowed) | {f"{name}__Value" for name in allowed}
    for name in _NAME_RE.findall(bare):
        if name.lower() not in _KEYWORDS and name not in flat_allowed:
            shown = name.replace("__", "/")
            raise _bad(f"Could not find a property named '{shown}' on type '{CRM}.{type_name}'.")
    try:
        return parse_filter(rewritten)
    except QueryError as exc:
        raise _bad(str(exc)) from None


def _parse_expand(text: str | None, allowed: Iterable[str], type_name: str) -> dict[str, dict[str, str]]:
    """``$expand`` as {navigation property: its nested options}."""
    if text is None:
        return {}
    expanded: dict[str, dict[str, str]] = {}
    for item in _split_top(text, ","):
        name, paren, rest = item.partition("(")
        name = name.strip()
        if name not in allowed:
            raise _bad(f"Could not find a property named '{name}' on type '{CRM}.{type_name}'.")
        nested: dict[str, str] = {}
        if paren:
            if not rest.endswith(")"):
                raise _bad(f"The $expand item '{item}' is missing a closing parenthesis.")
            for option in _split_top(rest[:-1], ";"):
                key, _, value = option.partition("=")
                nested[key.strip()] = value.strip()
            _check_options(nested)
        expanded[name] = nested
    return expanded


# ============================================================ the handler


class DataverseMetadata:
    """Answers the metadata paths of ``/api/data/v9.2/``; raises ApiError for the API to render."""

    @staticmethod
    def handles(path: str) -> bool:
        """Whether ``path`` (relative to the API base, unquoted) is a metadata path."""
        head = path.split("/", 1)[0].split("(", 1)[0]
        return head in ("$metadata", "EntityDefinitions")

    def answer(self, request: ApiRequest, path: str) -> ApiResponse:
        """The response to a GET on a metadata path; other methods are refused."""
        if request.method.upper() != "GET":
            raise _not_supported(f"{request.method.upper()} on table definitions; they are read-only here")
        if path == "$metadata":
            return ApiResponse(200, csdl_document().encode("utf-8"), {"content-type": "application/xml"})
        _check_options(request.query)
        segments = [s for s in re.split(r"/(?![^()]*\))", path) if s]
        match = _KEY_RE.match(segments[0])
        if match is None or match.group("name") != "EntityDefinitions":
            raise ApiError(404, E_BAD_REQUEST, f"Resource not found for the segment '{segments[0]}'.")
        base = request.base_url
        if match.group("key") is None:
            if len(segments) > 1:
                raise ApiError(404, E_BAD_REQUEST, f"Resource not found for the segment '{segments[1]}'.")
            return self._entity_list(request.query, base)
        entity_set = self._find_table(match.group("key"))
        if len(segments) == 1:
            body = self._entity_view(entity_set, request.query)
            context = f"{base}$metadata#EntityDefinitions{self._shape(request.query)}/$entity"
            return ApiResponse.of_json(200, {"@odata.context": context, **body})
        nav, rest = segments[1], segments[2:]
        nav_match = _KEY_RE.match(nav)
        if nav_match is None or nav_match.group("name") not in ENTITY_NAVIGATION:
            raise ApiError(404, E_BAD_REQUEST, f"Resource not found for the segment '{nav}'.")
        if nav_match.group("name") == "Keys" and not rest and nav_match.group("key") is None:
            return ApiResponse.of_json(
                200,
                {
                    "@odata.context": f"{base}$metadata#EntityDefinitions('{entity(entity_set)['MetadataId']}')/Keys",
                    "value": key_definitions(TABLES[entity_set], label),
                },
            )
        if nav_match.group("name") != "Attributes":
            raise _not_supported(f"the {nav_match.group('name')} of table definitions")
        return self._attributes(entity_set, nav_match.group("key"), rest, request.query, base)

    # ---------------------------------------------------------------- tables

    @staticmethod
    def _find_table(key: str) -> str:
        return _find_by_key(
            key,
            "EntityMetadata",
            TABLES,
            logical_name=lambda entity_set: TABLES[entity_set].logical_name,
            metadata_id=lambda entity_set: entity(entity_set)["MetadataId"],
            by_name="Could not find entity with logical name '{}'.",
            by_id="Could not find entity with MetadataId '{}'.",
        )

    @staticmethod
    def _shape(query: Mapping[str, str]) -> str:
        select = query.get("$select")
        return f"({select})" if select else ""

    def _entity_view(self, entity_set: str, query: Mapping[str, str]) -> dict[str, Any]:
        allowed = entity_properties()
        select = _parse_select(query.get("$select"), allowed, "EntityMetadata")
        expand = _parse_expand(query.get("$expand"), ENTITY_NAVIGATION, "EntityMetadata")
        body = entity(entity_set)
        out = {name: body[name] for name in select} | {"MetadataId": body["MetadataId"]} if select else dict(body)
        for name, nested in expand.items():
            if name == "Keys":
                out["Keys"] = key_definitions(TABLES[entity_set], label)
            elif name != "Attributes":
                raise _not_supported(f"the {name} of table definitions")
            else:
                out["Attributes"] = self._attribute_values(entity_set, None, nested)
        return out

    def _entity_list(self, query: Mapping[str, str], base: str) -> ApiResponse:
        predicate = _compile_filter(query.get("$filter"), entity_properties(), "EntityMetadata")
        values = [
            self._entity_view(entity_set, query)
            for entity_set in TABLES
            if predicate is None or predicate(_flatten(entity(entity_set)))
        ]
        return ApiResponse.of_json(
            200, {"@odata.context": f"{base}$metadata#EntityDefinitions{self._shape(query)}", "value": values}
        )

    # ---------------------------------------------------------------- attributes

    @staticmethod
    def _cast(segment: str | None) -> str | None:
        """The derived type a cast segment names (``PicklistAttributeMetadata``), or None."""
        if segment is None:
            return None
        prefix = CRM + "."
        name = segment[len(prefix) :] if segment.startswith(prefix) else None
        if name is None or name not in _KNOWN_ATTRIBUTE_TYPES:
            raise ApiError(404, E_BAD_REQUEST, f"Resource not found for the segment '{segment}'.")
        return name

    @staticmethod
    def _allowed(cast: str | None) -> set[str]:
        types = attribute_types()
        if cast is None:
            common = set.intersection(*types.values())
            return common - {"@odata.type"}
        return types.get(cast, set.intersection(*types.values())) - {"@odata.type"}

    def _attribute_values(
        self,
        entity_set: str,
        cast: str | None,
        options: Mapping[str, str],
        only: Callable[[Attribute], bool] | None = None,
    ) -> list[dict[str, Any]]:
        type_name = cast or "AttributeMetadata"
        allowed = self._allowed(cast)
        select = _parse_select(options.get("$select"), allowed, type_name)
        predicate = _compile_filter(options.get("$filter"), allowed, type_name)
        navigation = ATTRIBUTE_NAVIGATION if cast in _CHOICE_TYPES else ()
        expand = _parse_expand(options.get("$expand"), navigation, type_name)
        values = []
        for attribute in attributes(entity_set):
            if cast is not None and attribute.odata_type != cast:
                continue
            if only is not None and not only(attribute):
                continue
            if predicate is not None and not predicate(_flatten(attribute.body)):
                continue
            values.append(self._attribute_view(attribute, select, expand))
        return values

    @staticmethod
    def _attribute_view(
        attribute: Attribute, select: list[str] | None, expand: Mapping[str, Mapping[str, str]]
    ) -> dict[str, Any]:
        body = attribute.body
        if select is None:
            out = dict(body)
        else:
            out = {"@odata.type": body["@odata.type"], **{n: body[n] for n in select}, "MetadataId": body["MetadataId"]}
        for name, nested in expand.items():
            if name == "GlobalOptionSet":
                out["GlobalOptionSet"] = None  # the served choices all use local option sets
                continue
            options = option_set(attribute.table, attribute.logical_name) if attribute.has_option_set else None
            if options is not None and nested.get("$select"):
                wanted = _parse_select(nested["$select"], set(options), "OptionSetMetadataBase")
                options = {n: options[n] for n in wanted or ()} | {"MetadataId": options["MetadataId"]}
            out["OptionSet"] = options
        return out

    def _attributes(
        self, entity_set: str, key: str | None, rest: list[str], query: Mapping[str, str], base: str
    ) -> ApiResponse:
        table_id = entity(entity_set)["MetadataId"]
        if key is None:
            if len(rest) > 1:
                raise ApiError(404, E_BAD_REQUEST, f"Resource not found for the segment '{rest[1]}'.")
            cast = self._cast(rest[0] if rest else None)
            values = self._attribute_values(entity_set, cast, query)
            suffix = f"/{CRM}.{cast}" if cast else ""
            context = f"{base}$metadata#EntityDefinitions('{table_id}')/Attributes{suffix}{self._shape(query)}"
            return ApiResponse.of_json(200, {"@odata.context": context, "value": values})
        attribute = self._find_attribute(entity_set, key)
        if len(rest) > 1:
            raise ApiError(404, E_BAD_REQUEST, f"Resource not found for the segment '{rest[1]}'.")
        cast = self._cast(rest[0] if rest else None)
        if cast is not None and attribute.odata_type != cast:
            raise ApiError(404, E_NOT_FOUND, f"The attribute '{attribute.logical_name}' is not of type '{CRM}.{cast}'.")
        found = self._attribute_values(
            entity_set, cast, {k: v for k, v in query.items() if k != "$filter"}, only=lambda a: a is attribute
        )
        suffix = f"/{CRM}.{cast}" if cast else ""
        context = f"{base}$metadata#EntityDefinitions('{table_id}')/Attributes{suffix}{self._shape(query)}/$entity"
        return ApiResponse.of_json(200, {"@odata.context": context, **found[0]})

    @staticmethod
    def _find_attribute(entity_set: str, key: str) -> Attribute:
        table = TABLES[entity_set].logical_name
        return _find_by_key(
            key,
            "AttributeMetadata",
            attributes(entity_set),
            logical_name=lambda attribute: attribute.logical_name,
            metadata_id=lambda attribute: attribute.body["MetadataId"],
            by_name=f"Could not find attribute '{{}}' of entity '{table}'.",
            by_id=f"Could not find attribute with MetadataId '{{}}' of entity '{table}'.",
        )
