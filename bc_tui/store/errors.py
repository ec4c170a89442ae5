"""Errors the coupling store raises: each carries one plain sentence a user can act on."""

from __future__ import annotations

from bc_tui.store.records import CouplingRecord


class StoreError(Exception):
    """The coupling database cannot be used; ``str(error)`` is a sentence fit for the user."""


class MappingOverrideError(StoreError):
    """A table mapping override from the config file is not valid."""


class CouplingError(StoreError):
    """A coupling cannot be written because coupling is one-to-one."""

    def __init__(self, message: str, existing: CouplingRecord) -> None:
        super().__init__(message)
        # The coupling in the way, so the caller can check whether its other record still exists
        # and, if not, remove it as stale (BC does that silently) and couple again.
        self.existing = existing


class BcRecordAlreadyCoupledError(CouplingError):
    """The Business Central record is already coupled to another Dataverse record."""


class DataverseRecordAlreadyCoupledError(CouplingError):
    """The Dataverse record is already coupled to another Business Central record."""


class NotFoundError(StoreError):
    """A coupling, intent or job the caller named does not exist (any more)."""
