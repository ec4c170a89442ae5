"""Which direction to recommend when the user synchronizes one record, and why.

See docs/coupling-and-sync.md "Synchronize Now".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field

from bc_tui.domain.decisions import ALL_FIELDS, FieldDecision, decide_fields, overwrites
from bc_tui.domain.diff import ChangeBasis, FieldState, RecordDiff
from bc_tui.domain.mappings import Direction, SyncDirection, TableMapping
from bc_tui.domain.names import sentence
from bc_tui.domain.words import DIRECTION_WORDS

SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE

#: The direction dialog's choices (the words live in ``domain/words.py``).
OPTION_TEXT = {direction: words.option for direction, words in DIRECTION_WORDS.items()}


def _question(direction: SyncDirection, what: str) -> str:
    """The dialog's question when only one way is possible, e.g. "Send data update to Dataverse for X?"."""
    return f"{OPTION_TEXT[direction].rstrip('.')} for {what}?"


@dataclass(frozen=True)
class Recommendation:
    """The synchronization choice to put in front of the user.

    ``offered`` are the options (one option means a yes/no confirmation of it, pre-answered
    with ``confirm_default``); ``recommended`` is pre-selected; ``reasons`` are sentences naming
    the fields that changed; ``conflicts`` the labels of fields both sides changed to different
    values; ``warning`` what the user should know before choosing (data will be lost).

    ``effects``: per offered option, what it does to each field (docs/coupling-and-sync.md
    "Conflicts, field by field"): send and get win only the conflicting fields, every other
    change flows to the other side. ``whole_records``: the explicit "whole record" options (send
    or get every field that differs), for the user who wants one side's record as it is.
    """

    recommended: SyncDirection
    offered: tuple[SyncDirection, ...]
    reasons: tuple[str, ...]
    conflicts: tuple[str, ...]
    warning: str | None
    question: str
    confirm_default: bool = True
    effects: Mapping[SyncDirection, tuple[FieldDecision, ...]] = dataclass_field(default_factory=dict)
    whole_records: Mapping[SyncDirection, tuple[FieldDecision, ...]] = dataclass_field(default_factory=dict)

    def overwritten(self, option: SyncDirection, *, whole_record: bool = False) -> tuple[FieldDecision, ...]:
        """The fields whose own change ``option`` overwrites (the loss to warn about)."""
        return overwrites((self.whole_records if whole_record else self.effects).get(option, ()))

    def explain(self, option: SyncDirection, *, whole_record: bool = False) -> tuple[str, ...]:
        """One sentence per field ``option`` writes or leaves in conflict, with both values."""
        decisions = (self.whole_records if whole_record else self.effects).get(option, ())
        return tuple(d.sentence() for d in decisions if d.unresolved or d.writes_bc or d.writes_dataverse)


def with_effects(mapping: TableMapping, diff: RecordDiff, advice: Recommendation) -> Recommendation:
    """``advice`` with what each offered option, and each whole-record option, does to each field."""
    effects = {
        option: decide_fields(
            mapping, diff, run=option, choices={} if option is MERGE else {ALL_FIELDS: option}, policy=None
        )
        for option in advice.offered
    }
    whole = {
        option: decide_fields(mapping, diff, run=option, whole_record=True)
        for option in advice.offered
        if option is not MERGE
    }
    return replace(advice, effects=effects, whole_records=whole)


def _reasons(diff: RecordDiff) -> tuple[str, ...]:
    sentences: list[str] = []
    for field in diff.fields:
        if field.state is FieldState.CHANGED_IN_BC:
            sentences.append(f"{field.label} changed in Business Central.")
        elif field.state is FieldState.CHANGED_IN_DATAVERSE:
            sentences.append(f"{field.label} changed in Dataverse.")
        elif field.state is FieldState.CONFLICT:
            sentences.append(f"{field.label} changed on both sides to different values.")
        elif field.state is FieldState.CHANGED_ON_BOTH:
            sentences.append(f"{field.label} changed on both sides.")
        elif field.state is FieldState.DIFFERENT:
            sentences.append(f"{field.label} differs, and no earlier synchronization says which side changed it.")
    if diff.retry_to_dataverse:
        sentences.append("The last synchronization to Dataverse failed.")
    if diff.retry_from_dataverse:
        sentences.append("The last synchronization from Dataverse failed.")
    if diff.bc_modified and not any(f.bc_changed for f in diff.fields) and not diff.retry_to_dataverse:
        sentences.append(_side_sentence("Business Central", diff.bc_basis))
    if diff.dataverse_modified and not any(f.dataverse_changed for f in diff.fields) and not diff.retry_from_dataverse:
        sentences.append(_side_sentence("Dataverse", diff.dataverse_basis))
    if not sentences:
        sentences.append("Nothing changed since the last synchronization.")
    return tuple(sentences)


def _side_sentence(side: str, basis: ChangeBasis) -> str:
    if basis is ChangeBasis.NONE:
        return f"The {side} record has not been synchronized before."
    return f"The {side} record changed since the last synchronization."


def recommend(mapping: TableMapping, diff: RecordDiff, record: str) -> Recommendation:
    """The recommendation for synchronizing one coupled record, described as ``record``, with
    what each option does to each field (:func:`with_effects`)."""
    return with_effects(mapping, diff, _recommend(mapping, diff, record))


def _recommend(mapping: TableMapping, diff: RecordDiff, record: str) -> Recommendation:
    """Bidirectional mapping: Get when only Dataverse changed, Send when only BC changed, Merge
    when both or neither changed — except that when both changed a bidirectional field to
    different values, Merge is not offered (it needs a winner per field), a warning names the
    fields the side not chosen loses, and Send is recommended. One-way mapping: a confirmation
    of that direction, defaulting to No with a warning when the destination holds newer data.
    """
    reasons = _reasons(diff)
    conflicts = diff.conflicts
    if mapping.direction is Direction.TO_DATAVERSE:
        warning = (
            f"The Dataverse record coupled to {record} contains newer data than the Business Central "
            "record. Do you want to overwrite the data in Dataverse?"
        )
        return _one_way(SEND, record, reasons, conflicts, warning if diff.dataverse_modified else None)
    if mapping.direction is Direction.FROM_DATAVERSE:
        warning = (
            f"{sentence(record)} contains newer data than the Dataverse record coupled to it. "
            "Do you want to overwrite the data in Business Central?"
        )
        return _one_way(GET, record, reasons, conflicts, warning if diff.bc_modified else None)
    question = f"Synchronize data for {record}?"
    if diff.bc_modified and diff.dataverse_modified and conflicts:
        fields = ", ".join(conflicts)
        return Recommendation(
            recommended=SEND,
            offered=(SEND, GET),
            reasons=reasons,
            conflicts=conflicts,
            warning=(
                f"Both Business Central and Dataverse changed {fields} since the last synchronization; "
                "merging is not possible, and the side you do not choose loses its changes to these fields."
            ),
            question=question,
        )
    if diff.dataverse_modified and not diff.bc_modified:
        recommended = GET
    elif diff.bc_modified and not diff.dataverse_modified:
        recommended = SEND
    else:
        recommended = MERGE
    return Recommendation(
        recommended=recommended,
        offered=(SEND, GET, MERGE),
        reasons=reasons,
        conflicts=conflicts,
        warning=None,
        question=question,
    )


def _one_way(
    direction: SyncDirection, record: str, reasons: tuple[str, ...], conflicts: tuple[str, ...], warning: str | None
) -> Recommendation:
    """A one-way mapping offers only its own direction, as a confirmation; when the destination
    holds newer data (``warning`` says so) the confirmation defaults to No."""
    return Recommendation(
        recommended=direction,
        offered=(direction,),
        reasons=reasons,
        conflicts=conflicts,
        warning=warning,
        question=_question(direction, record),
        confirm_default=warning is None,
    )


def recommend_many(mapping: TableMapping, count: int) -> Recommendation:
    """The choice for synchronizing ``count`` selected records.

    See docs/coupling-and-sync.md "Synchronize Now", several records.

    Bidirectional: Send or Get (Send pre-selected); one-way: a confirmation of that direction.
    """
    what = "the selected record" if count == 1 else f"the {count} selected records"
    if mapping.direction is Direction.TO_DATAVERSE:
        return Recommendation(SEND, (SEND,), (), (), None, _question(SEND, what))
    if mapping.direction is Direction.FROM_DATAVERSE:
        return Recommendation(GET, (GET,), (), (), None, _question(GET, what))
    return Recommendation(SEND, (SEND, GET), (), (), None, f"Synchronize data for {what}?")
