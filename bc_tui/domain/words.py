"""The words bc-tui uses for directions, job types and a missing connection: one home, so that
the terminal app, the command line and the messages say the same thing (docs/keys-and-words.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bc_tui.domain.mappings import SyncDirection


@dataclass(frozen=True, slots=True)
class DirectionWords:
    """How one synchronization direction is written, wherever it is written.

    ``value``: the command line's and the database's word (``to-dataverse``); ``short``: one word
    for narrow columns (``send``); ``phrase``: inside a sentence ("does not send data to
    Dataverse"); ``option``: the choice offered in the direction dialog; ``done``: what a
    finished job did, at the start of its summary ("Sent to Dataverse"); ``after_coupling``: the
    Synchronize After Coupling choice ("Yes - Use the Business Central data"; merge is not one).
    """

    value: str
    short: str
    phrase: str
    option: str
    done: str
    after_coupling: str = ""


DIRECTION_WORDS: Mapping[SyncDirection, DirectionWords] = {
    SyncDirection.TO_DATAVERSE: DirectionWords(
        "to-dataverse",
        "send",
        "send data to Dataverse",
        "Send data update to Dataverse.",
        "Sent to Dataverse",
        "Yes - Use the Business Central data",
    ),
    SyncDirection.FROM_DATAVERSE: DirectionWords(
        "from-dataverse",
        "get",
        "get data from Dataverse",
        "Get data update from Dataverse.",
        "Got from Dataverse",
        "Yes - Use the Dataverse data",
    ),
    SyncDirection.MERGE: DirectionWords("merge", "merge", "merge data", "Merge data.", "Merged"),
}

#: The directions one record can be synchronized in (``bc-tui sync --direction``).
ONE_RECORD_DIRECTIONS: tuple[str, ...] = tuple(words.value for words in DIRECTION_WORDS.values())
#: The directions several records, or a synchronization after coupling, can take (no merge).
ONE_WAY_DIRECTIONS: tuple[str, ...] = (
    DIRECTION_WORDS[SyncDirection.TO_DATAVERSE].value,
    DIRECTION_WORDS[SyncDirection.FROM_DATAVERSE].value,
)


def direction_words(direction: SyncDirection | str) -> DirectionWords:
    """The words of ``direction`` (an enum member or its stored value, e.g. ``"to-dataverse"``)."""
    return DIRECTION_WORDS[SyncDirection(direction)]


def short_direction(value: str | None) -> str:
    """One word for a stored direction (``send``, ``get``, ``merge``); an unknown value as is."""
    try:
        return direction_words(value or "").short
    except ValueError:
        return value or ""


#: What each stored job type is called on screen. The database keeps ``uncoupling`` (rows
#: written by earlier versions, and other bc-tui installations sharing a PostgreSQL database,
#: still read it); only what is shown says "Delete coupling".
JOB_TYPE_WORDS: Mapping[str, str] = {
    "synchronization": "Synchronization",
    "coupling": "Coupling",
    "uncoupling": "Delete coupling",
    "creation": "Creation",
    "match-based coupling": "Match coupling",
    "coupling check": "Check couplings",
}


def job_type_text(job_type: str) -> str:
    """The shown name of a stored job type (``uncoupling`` → ``Delete coupling``)."""
    return JOB_TYPE_WORDS.get(str(job_type), str(job_type))


#: Said when coupling or synchronizing is asked for before the connection is proven.
STILL_CONNECTING = (
    "Coupling and synchronization are not available yet: the connection is still being made; "
    "try again when the header says connected."
)


def not_connected(problem: str | None) -> str:
    """The one sentence for "coupling and synchronization cannot run now".

    ``problem`` is the connection's failure in one sentence (cause and fix), or None while the
    connection is still being made.
    """
    if problem is None:
        return STILL_CONNECTING
    problem = problem.strip()
    if problem and problem[-1] not in ".!?":
        problem += "."
    return f"Not connected: {problem} Coupling and synchronization are unavailable until this is fixed."
