"""Typed records as the two services return them.

``Entity`` is what every row has (key, ETag, last modification) plus ``data``: the API's own
fields, unchanged, without ``@odata.*`` annotations. The per-entity types add typed properties for
the fields everyone uses and say where they live (entity set, key, modified field).

Rows are built per record on every page read, so building one is kept cheap: slotted frozen
dataclasses; a row of a page becomes its record's ``data`` as parsed (``take_row``: no copy, no
read-only wrapper, as ``Mapping`` it is read-only to the type checker; the OData control
information dropped by name, never by looking at every field); and the last modification parsed
only when asked for, by ``datetime.fromisoformat`` alone in the usual forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar, cast

from .errors import MalformedResponse

E = TypeVar("E", bound="Entity")


#: The ``@odata.*`` control information the OData JSON format lets an entity carry besides its
#: properties (4.01, "Control Information"; ``etag`` is taken apart first). Dropped by name, one
#: hash lookup each: looking at every field's name cost more than building the rest of the row.
_CONTROL_INFORMATION = tuple(
    "@odata." + name
    for name in (
        "context",
        "metadataEtag",
        "type",
        "id",
        "editLink",
        "readLink",
        "mediaEditLink",
        "mediaReadLink",
        "mediaContentType",
        "mediaEtag",
        "removed",
    )
)


def parse_datetime(value: Any) -> datetime | None:
    """Parse an OData ``Edm.DateTimeOffset`` (``2026-01-01T10:00:00Z``, with or without fraction)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        # Python 3.11 reads the usual forms itself (``Z``, up to 7 fraction digits, truncated).
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return _parse_datetime_slowly(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_datetime_slowly(value: str) -> datetime | None:
    """The forms ``fromisoformat`` refuses: surrounding blanks, more than 7 fraction digits."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Python 3.11 accepts up to 6 fraction digits; services may send 7.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Entity:
    """One row of an entity set: its key, its ETag, when it last changed, and its fields."""

    #: Name of the entity set (``customers``, ``accounts`` …), relative to the service/company.
    ENTITY_SET: ClassVar[str] = ""
    #: The key property (``id`` in Business Central, ``accountid`` … in Dataverse).
    KEY: ClassVar[str] = "id"
    #: The last-modified property, for incremental reads.
    MODIFIED: ClassVar[str] = "lastModifiedDateTime"
    #: The service's name, for messages.
    SERVICE: ClassVar[str] = ""
    #: What one row is called in messages ("customer", "account" …).
    NOUN: ClassVar[str] = "record"
    #: Whether the client may choose the key on create (Dataverse yes, Business Central no).
    CLIENT_KEY: ClassVar[bool] = False

    id: str
    etag: str
    data: Mapping[str, Any]

    @classmethod
    def from_row(cls: type[E], row: Any) -> E:
        """Build from one JSON row; raise MalformedResponse when its key or ETag is missing."""
        if type(row) is dict:
            return cls.take_row(row.copy())
        if isinstance(row, Mapping):
            return cls.take_row(dict(row))
        raise MalformedResponse(
            f"{cls.SERVICE} sent a {cls.NOUN} that is not a JSON object; check the service URL in your profile."
        )

    @classmethod
    def take_row(cls: type[E], row: dict[str, Any]) -> E:
        """Like ``from_row``, but ``row`` becomes the record's ``data`` (its annotations removed in
        place) instead of being copied: for rows nobody else holds, fresh from a parsed page."""
        etag = row.pop("@odata.etag", None)
        key = row.get(cls.KEY)
        if not isinstance(key, str) or not key:
            raise MalformedResponse(
                f"{cls.SERVICE} sent a {cls.NOUN} without its {cls.KEY}; check the service URL in your profile."
            )
        if not isinstance(etag, str) or not etag:
            raise MalformedResponse(
                f"{cls.SERVICE} sent {cls.NOUN} {key} without an ETag; check the service URL in your profile."
            )
        for name in _CONTROL_INFORMATION:
            if name in row:
                del row[name]
        record = _new_record(cls)
        _set_id(record, key)
        _set_etag(record, etag)
        _set_data(record, row)
        return record

    @property
    def modified_at(self) -> datetime | None:
        """When the row last changed (its ``MODIFIED`` field), parsed when asked for: most rows
        of a page are never asked."""
        return parse_datetime(self.data.get(self.MODIFIED))

    def get(self, name: str, default: Any = None) -> Any:
        """One field's value (``default`` when the row does not carry it)."""
        return self.data.get(name, default)

    def _text(self, name: str) -> str:
        value = self.data.get(name)
        return "" if value is None else str(value)

    @property
    def label(self) -> str:
        """How to name this row in a message."""
        return f"{self.NOUN} {self.id}"


#: ``take_row`` fills the three slots itself: the frozen dataclass's ``__init__`` sets each field
#: through ``object.__setattr__``, which cost half of building a row.
_new_record = object.__new__
_set_id, _set_etag, _set_data = (cast(Any, Entity.__dict__[name]).__set__ for name in ("id", "etag", "data"))


# --- Business Central ---------------------------------------------------------------------------


class BcEntity(Entity):
    """A Business Central row: ``id``, ``number``, ``displayName``, ``lastModifiedDateTime``."""

    __slots__ = ()
    SERVICE = "Business Central"

    @property
    def number(self) -> str:
        """The record's number (``No.``), the key users know it by."""
        return self._text("number")

    @property
    def display_name(self) -> str:
        """The name shown in lists."""
        return self._text("displayName")

    @property
    def label(self) -> str:
        return f"{self.NOUN} {self.number or self.id}" + (f" ({self.display_name})" if self.display_name else "")


@dataclass(frozen=True, slots=True)
class BcCustomer(BcEntity):
    """A Business Central customer."""

    ENTITY_SET = "customers"
    NOUN = "customer"


@dataclass(frozen=True, slots=True)
class BcContact(BcEntity):
    """A Business Central contact."""

    ENTITY_SET = "contacts"
    NOUN = "contact"


# --- Dataverse ----------------------------------------------------------------------------------


class DataverseEntity(Entity):
    """A Dataverse row: ``<entity>id``, ``modifiedon``, ``versionnumber``."""

    __slots__ = ()
    SERVICE = "Dataverse"
    MODIFIED = "modifiedon"
    CLIENT_KEY = True


@dataclass(frozen=True, slots=True)
class DataverseAccount(DataverseEntity):
    """A Dataverse account."""

    ENTITY_SET = "accounts"
    KEY = "accountid"
    NOUN = "account"

    @property
    def name(self) -> str:
        """The account's name."""
        return self._text("name")

    @property
    def label(self) -> str:
        return f"account {self.name or self.id}"


@dataclass(frozen=True, slots=True)
class DataverseContact(DataverseEntity):
    """A Dataverse contact."""

    ENTITY_SET = "contacts"
    KEY = "contactid"
    NOUN = "contact"

    @property
    def full_name(self) -> str:
        """The computed full name (first + last when the service did not send it)."""
        return self._text("fullname") or " ".join(p for p in (self._text("firstname"), self._text("lastname")) if p)

    @property
    def label(self) -> str:
        return f"contact {self.full_name or self.id}"
