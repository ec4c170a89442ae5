"""Property: decisions field by field (docs/coupling-and-sync.md "Conflicts, field by field").

Random edits on both sides of one coupled pair — a field unchanged, changed in Business Central,
in Dataverse, on both sides alike, or on both sides differently (a conflict) — then a
synchronization of that record over HTTP against the sandbox, with random per-field choices
(Business Central, Dataverse, an edited value, or none), a random ``"*"`` and a random direction;
or a run over several records with a conflict policy (skip or win). After it:

- no change made on one side only is lost: it reaches the other side;
- every conflicting field ends with the chosen value on both sides (the named side's, the
  edited value, else ``"*"``'s side, else the side the user chose to synchronize);
- a conflict nobody decided leaves both records untouched and is reported as a conflict;
- a side is written only when one of its values changes, and a second synchronization writes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bc_tui.config import profile_from_sandbox_info
from bc_tui.domain.decisions import ConflictPolicy
from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.outcomes import Outcome
from bc_tui.sandbox.app import create_app, sandbox_info
from bc_tui.sandbox.inprocess import ORIGIN, asgi_transport
from bc_tui.sandbox.settings import SandboxSettings
from bc_tui.store.coupling_queries import get_by_bc_id
from bc_tui.sync.create import create_in_dataverse
from bc_tui.sync.resolve import retry
from bc_tui.sync.session import open_session
from bc_tui.sync.synchronize import synchronize_many, synchronize_one

MAPPING = "CUSTOMER"
SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE
# Bidirectional text fields: label → (BC field, Dataverse attribute).
FIELDS = {
    "Address": ("addressLine1", "address1_line1"),
    "City": ("city", "address1_city"),
    "County": ("state", "address1_stateorprovince"),
    "Phone No.": ("phoneNumber", "telephone1"),
}
EDITS = ("none", "bc", "dataverse", "both alike", "both differently")


@dataclass
class Pair:
    """One coupled customer/account pair in a sandbox, with its own event loop and session."""

    loop: asyncio.AbstractEventLoop
    app: Any
    session: Any
    bc_id: str
    dataverse_id: str

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    def values(self) -> tuple[dict[str, Any], dict[str, Any]]:
        bc = self.app.state.store.get("bc/customers", self.bc_id)
        dv = self.app.state.store.get("dv/accounts", self.dataverse_id)
        return {k: bc[f] for k, (f, _) in FIELDS.items()}, {k: dv[a] for k, (_, a) in FIELDS.items()}

    def versions(self) -> tuple[int, int]:
        store = self.app.state.store
        return store.get("bc/customers", self.bc_id)["_version"], store.get("dv/accounts", self.dataverse_id)[
            "_version"
        ]

    def edit(self, bc: dict[str, Any], dv: dict[str, Any]) -> None:
        store = self.app.state.store
        if bc:
            store.update("bc/customers", self.bc_id, {FIELDS[k][0]: v for k, v in bc.items()})
        if dv:
            store.update("dv/accounts", self.dataverse_id, {FIELDS[k][1]: v for k, v in dv.items()})


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    """One sandbox and coupling database for every example; each example starts from a fresh baseline."""
    loop = asyncio.new_event_loop()
    sandbox = SandboxSettings(data_dir=None, customers=6)
    app = create_app(sandbox)
    profile = profile_from_sandbox_info(sandbox_info(sandbox, ORIGIN))
    opened = open_session(profile, "sqlite:///:memory:", transport=asgi_transport(app))
    session = loop.run_until_complete(opened.__aenter__())
    try:
        bc_id = next(r["id"] for r in app.state.store.rows("bc/customers") if r.get("blocked") in (" ", "", None))
        created = loop.run_until_complete(create_in_dataverse(session, MAPPING, [bc_id], allow_duplicates=True))
        assert created.count(Outcome.INSERTED) == 1
        yield Pair(loop, app, session, bc_id, get_by_bc_id(MAPPING, bc_id).dataverse_id)
    finally:
        loop.run_until_complete(opened.__aexit__(None, None, None))
        loop.close()


def _baseline(pair: Pair, base: dict[str, str]) -> None:
    """Both sides hold ``base`` and the coupling remembers it as last synchronized."""
    coupling = get_by_bc_id(MAPPING, pair.bc_id)
    if coupling.skipped:  # a run that skipped a conflict twice marks it Skipped, as BC does
        pair.run(retry(pair.session, [coupling.id]))
    pair.edit(base, base)
    summary = pair.run(synchronize_one(pair.session, MAPPING, pair.bc_id, MERGE))
    assert summary.result_for(pair.bc_id).outcome in (Outcome.UNCHANGED, Outcome.MODIFIED)
    snapshot = get_by_bc_id(MAPPING, pair.bc_id).snapshot
    assert {k: snapshot["bc"][k] for k in FIELDS} == {k: snapshot["dataverse"][k] for k in FIELDS} == base


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """Edits on both sides, the synchronization and the user's choices."""
    run = draw(st.sampled_from(["one", "many"]))
    fields: dict[str, dict[str, Any]] = {}
    for label in FIELDS:
        kind = draw(st.sampled_from(EDITS))
        choice = draw(st.sampled_from(["none", "bc", "dataverse", "edit"] if run == "one" else ["none"]))
        fields[label] = {"edit": kind, "choice": choice}
    return {
        "run": run,
        "direction": draw(st.sampled_from([SEND, GET, MERGE] if run == "one" else [SEND, GET])),
        "all": draw(st.sampled_from([None, SEND, GET])) if run == "one" else None,
        "policy": draw(st.sampled_from(list(ConflictPolicy))),
        "fields": fields,
        "round": draw(st.integers(min_value=0, max_value=10**6)),
    }


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(scenario=scenarios())
def test_no_one_sided_change_is_lost_and_conflicts_end_as_chosen(pair: Pair, scenario: dict[str, Any]) -> None:
    tag = scenario["round"]
    base = {label: f"{label[:2]} base {tag}" for label in FIELDS}
    _baseline(pair, base)

    bc_edit: dict[str, str] = {}
    dv_edit: dict[str, str] = {}
    choices: dict[str, SyncDirection] = {}
    edits: dict[str, str] = {}
    for label, field in scenario["fields"].items():
        kind = field["edit"]
        if kind in ("bc", "both alike", "both differently"):
            bc_edit[label] = f"{label[:2]} bc {tag}"
        if kind in ("dataverse", "both differently"):
            dv_edit[label] = f"{label[:2]} dv {tag}"
        if kind == "both alike":
            dv_edit[label] = bc_edit[label]
        if field["choice"] in ("bc", "dataverse"):
            choices[label] = SEND if field["choice"] == "bc" else GET
        elif field["choice"] == "edit":
            edits[label] = f"{label[:2]} typed {tag}"
    if scenario["all"] is not None:
        choices["*"] = scenario["all"]
    pair.edit(bc_edit, dv_edit)
    bc, dv = pair.values()
    direction = scenario["direction"]

    # What each field must end with; None: a conflict nobody decided.
    expected: dict[str, str | None] = {}
    for label in FIELDS:
        conflict = bc[label] != base[label] and dv[label] != base[label] and bc[label] != dv[label]
        if label in edits:
            expected[label] = edits[label]
        elif label in choices:
            expected[label] = bc[label] if choices[label] is SEND else dv[label]
        elif not conflict:
            expected[label] = bc[label] if bc[label] != base[label] else dv[label]
        else:
            winner = choices.get("*")
            if winner is None and direction is not MERGE:
                one_record = scenario["run"] == "one"
                winner = direction if one_record or scenario["policy"] is ConflictPolicy.WIN else None
            expected[label] = None if winner is None else (bc[label] if winner is SEND else dv[label])
    before = pair.versions()

    if scenario["run"] == "one":
        summary = pair.run(synchronize_one(pair.session, MAPPING, pair.bc_id, direction, choices=choices, edits=edits))
    else:
        summary = pair.run(
            synchronize_many(pair.session, MAPPING, [pair.bc_id], direction, conflicts=scenario["policy"])
        )
    result = summary.result_for(pair.bc_id)
    unresolved = sorted(label for label, value in expected.items() if value is None)
    event(f"{scenario['run']} {direction.value}: {result.outcome.value}")

    if unresolved:
        assert result.outcome is Outcome.CONFLICT, (result, unresolved)
        assert all(label in (result.message or "") for label in unresolved)
        assert pair.versions() == before and pair.values() == (bc, dv)  # nothing written
        return
    assert result.outcome in (Outcome.MODIFIED, Outcome.UNCHANGED), result
    now_bc, now_dv = pair.values()
    assert now_bc == now_dv == expected, (scenario, bc, dv, base)
    after = pair.versions()
    assert (after[0] == before[0]) == (now_bc == bc), "Business Central was written without a change, or not at all"
    assert (after[1] == before[1]) == (now_dv == dv), "Dataverse was written without a change, or not at all"
    # A second synchronization finds nothing to do and writes nothing.
    again = pair.run(synchronize_one(pair.session, MAPPING, pair.bc_id, MERGE))
    assert again.result_for(pair.bc_id).outcome is Outcome.UNCHANGED
    assert pair.versions() == after
