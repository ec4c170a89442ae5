"""The sandbox entity store and its demo data: versions, transactions, persistence, refresh."""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bc_tui.sandbox import demo_data
from bc_tui.sandbox.settings import SANDBOX_NAMESPACE, SandboxSettings
from bc_tui.sandbox.store import FORMAT, DuplicateKey, EntityStore, SandboxDataError
from bc_tui.sandbox.store_clock import iso, iso_series


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> EntityStore:
    path = tmp_path / "sandbox.sqlite" if request.param == "file" else None
    opened = EntityStore(path)
    yield opened
    opened.close()


def test_insert_update_stamp_strictly_increasing_versions_and_times(store: EntityStore) -> None:
    first = store.insert("bc/customers", "a", {"displayName": "Alpha"})
    second = store.insert("bc/customers", "b", {"displayName": "Beta"})
    third = store.update("bc/customers", "a", {"city": "Lyon"})
    stamps = [first, second, third]
    assert [s["_version"] for s in stamps] == sorted({s["_version"] for s in stamps})
    assert [s["_modified"] for s in stamps] == sorted({s["_modified"] for s in stamps})
    assert third["_modified"].endswith("Z") and len(third["_modified"]) == len("2026-11-23T22:18:36.123456Z")
    assert store.get("bc/customers", "a") == {
        "displayName": "Alpha",
        "city": "Lyon",
        "_version": third["_version"],
        "_modified": third["_modified"],
    }
    assert [r["displayName"] for r in store.rows("bc/customers")] == ["Alpha", "Beta"]  # update keeps the place
    assert store.count("bc/customers") == 2


def test_duplicate_insert_missing_update_and_delete_are_refused(store: EntityStore) -> None:
    store.insert("dv/accounts", "k", {"name": "x"})
    with pytest.raises(DuplicateKey):
        store.insert("dv/accounts", "k", {"name": "y"})
    with pytest.raises(KeyError):
        store.update("dv/accounts", "nope", {"name": "y"})
    with pytest.raises(KeyError):
        store.delete("dv/accounts", "nope")
    assert store.get("dv/accounts", "k")["name"] == "x"


def test_delete_removes_the_row_and_leaves_a_tombstone(store: EntityStore) -> None:
    store.insert("dv/contacts", "c1", {"fullname": "Ann"})
    before = store.version
    store.delete("dv/contacts", "c1")
    assert store.get("dv/contacts", "c1") is None
    [(key, version, modified)] = store.deletions("dv/contacts", since_version=before)
    assert key == "c1" and version > before and modified.endswith("Z")


def test_atomic_rolls_back_memory_and_nested_blocks_roll_back_alone(store: EntityStore) -> None:
    store.insert("bc/customers", "keep", {"displayName": "Keep"})
    # The raise is what ends the atomic block (and rolls it back); match= tells it from any other failure.
    with pytest.raises(RuntimeError, match="^boom$"), store.atomic():  # noqa: PT012
        store.update("bc/customers", "keep", {"displayName": "Changed"})
        store.insert("bc/customers", "new", {"displayName": "New"})
        store.delete("bc/customers", "keep")
        raise RuntimeError("boom")
    assert [r["displayName"] for r in store.rows("bc/customers")] == ["Keep"]

    with store.atomic():
        store.insert("bc/customers", "outer", {"displayName": "Outer"})
        with pytest.raises(ValueError, match="^inner fails$"), store.atomic():  # noqa: PT012
            store.insert("bc/customers", "inner", {"displayName": "Inner"})
            raise ValueError("inner fails")
    assert [r["displayName"] for r in store.rows("bc/customers")] == ["Keep", "Outer"]


def test_everything_committed_survives_a_reopen_and_rollbacks_do_not(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = EntityStore(path)
    store.insert("bc/customers", "a", {"displayName": "Alpha"})
    store.insert("bc/customers", "b", {"displayName": "Beta"})
    store.delete("bc/customers", "b")
    with pytest.raises(RuntimeError, match="^rolled back$"), store.atomic():  # noqa: PT012 - the raise rolls the block back
        store.update("bc/customers", "a", {"displayName": "Rolled back"})
        store.insert("bc/customers", "c", {"displayName": "Gamma"})
        raise RuntimeError("rolled back")
    last = store.update("bc/customers", "a", {"city": "Paris"})
    store.close()

    reopened = EntityStore(path)
    assert list(reopened.rows("bc/customers")) == [last]
    assert [d[0] for d in reopened.deletions("bc/customers")] == ["b"]
    later = reopened.insert("bc/customers", "d", {"displayName": "Delta"})
    assert later["_version"] > last["_version"] and later["_modified"] > last["_modified"]
    reopened.close()


def test_refresh_picks_up_what_another_connection_wrote(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    server, editor = EntityStore(path), EntityStore(path)
    server.insert("dv/accounts", "a", {"name": "Alpha"})
    server.insert("dv/accounts", "b", {"name": "Beta"})
    editor.refresh()
    edited = editor.update("dv/accounts", "a", {"name": "Alpha edited"})
    editor.delete("dv/accounts", "b")
    editor.insert("dv/accounts", "c", {"name": "Gamma"})

    assert server.get("dv/accounts", "a")["name"] == "Alpha"  # not until refresh()
    server.refresh()
    assert [r["name"] for r in server.rows("dv/accounts")] == ["Alpha edited", "Gamma"]
    assert server.get("dv/accounts", "a") == edited
    # The server's next write continues the shared counter instead of reusing a version.
    assert server.insert("dv/accounts", "d", {"name": "Delta"})["_version"] > edited["_version"]
    server.close(), editor.close()


def test_a_write_catches_up_even_without_refresh(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    server, editor = EntityStore(path), EntityStore(path)
    server.insert("dv/accounts", "a", {"name": "Alpha"})
    editor.refresh()
    editor.update("dv/accounts", "a", {"telephone1": "123"})
    mine = server.update("dv/accounts", "a", {"name": "Alpha 2"})
    assert mine["telephone1"] == "123" and mine["name"] == "Alpha 2"
    server.close(), editor.close()


def test_clear_in_another_process_reloads_everything(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    server, editor = EntityStore(path), EntityStore(path)
    server.insert("bc/customers", "a", {"displayName": "Alpha"})
    editor.refresh()
    with editor.atomic():
        editor.clear()
        editor.insert("bc/customers", "z", {"displayName": "Zulu"})
    server.refresh()
    assert [r["displayName"] for r in server.rows("bc/customers")] == ["Zulu"]
    server.close(), editor.close()


def test_bulk_load_of_100k_rows_lands_in_memory_and_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = EntityStore(path)
    loaded = store.bulk_load("bc/customers", ((str(i), {"number": str(i)}) for i in range(100_000)))
    assert loaded == 100_000 == store.count("bc/customers")
    rows = list(store.rows("bc/customers"))
    assert rows[0]["_version"] < rows[-1]["_version"] and rows[0]["_modified"] < rows[-1]["_modified"]
    store.close()
    reopened = EntityStore(path)
    assert list(reopened.rows("bc/customers")) == rows
    reopened.close()
    with sqlite3.connect(path) as db:  # on disk as a few chunks, not 100,000 records
        assert db.execute("SELECT count(*) FROM entity WHERE entity_set = 'bc/customers'").fetchone()[0] == 10


def test_bulk_load_with_a_duplicate_loads_nothing(store: EntityStore) -> None:
    with pytest.raises(DuplicateKey):
        store.bulk_load("bc/customers", iter([("a", {}), ("b", {}), ("a", {})]))
    assert store.count("bc/customers") == 0


# ------------------------------------------------------------------ demo data


def _seeded(customers: int = 50) -> EntityStore:
    store = EntityStore()
    demo_data.seed(store, SandboxSettings(customers=customers))
    return store


def test_demo_data_is_deterministic() -> None:
    def content(store: EntityStore) -> dict[str, list[dict]]:
        sets = ("bc/companies", "bc/customers", "bc/contacts", "dv/systemusers", "dv/accounts", "dv/contacts")
        return {
            s: [{k: v for k, v in r.items() if not k.startswith("_") or k == "_company"} for r in store.rows(s)]
            for s in sets
        }

    assert content(_seeded()) == content(_seeded())


def test_demo_data_has_cronus_and_bc_shaped_customers_and_contacts() -> None:
    settings = SandboxSettings()
    store = _seeded()
    [company] = store.rows("bc/companies")
    assert company["id"] == settings.company_id and company["displayName"] == "CRONUS International Ltd."
    customers = list(store.rows("bc/customers"))
    assert len(customers) == 50
    assert [c["number"] for c in customers[:3]] == ["10000", "20000", "30000"]
    assert customers[0]["displayName"] == "Adatum Corporation"
    assert customers[0]["id"] == str(uuid.uuid5(SANDBOX_NAMESPACE, "customer:0"))
    assert len({c["displayName"] for c in customers}) == 50
    assert {c["blocked"] for c in customers} == {" ", "All"}
    assert all(c["_company"] == settings.company_id and c["type"] == "Company" for c in customers)

    contacts = list(store.rows("bc/contacts"))
    companies = [c for c in contacts if c["type"] == "Company"]
    persons = [c for c in contacts if c["type"] == "Person"]
    assert len(companies) == 50 and 50 <= len(persons) <= 100
    assert all(c["companyNumber"] == c["number"] for c in companies)
    company_numbers = {c["number"] for c in companies}
    assert all(p["companyNumber"] in company_numbers and " " in p["displayName"] for p in persons)
    assert contacts[0]["number"] == "CT000001"


def test_demo_data_mixes_same_similar_and_one_sided_records() -> None:
    store = _seeded(400)
    customers = list(store.rows("bc/customers"))
    accounts = list(store.rows("dv/accounts"))
    by_email = {a["emailaddress1"]: a for a in accounts}
    same = similar = bc_only = 0
    for c in customers:
        account = by_email.get(c["email"])
        if account is None:
            bc_only += 1
        elif (
            account["name"] == c["displayName"]
            and account["telephone1"] == c["phoneNumber"]
            and account["address1_city"] == c["city"]
        ):
            same += 1
        else:
            similar += 1
    assert 0.5 < same / 400 < 0.7 and 0.08 < similar / 400 < 0.22 and 0.15 < bc_only / 400 < 0.35
    customer_emails = {c["email"] for c in customers}
    assert sum(a["emailaddress1"] not in customer_emails for a in accounts) >= 10

    account_ids = {a["accountid"] for a in accounts}
    dv_contacts = list(store.rows("dv/contacts"))
    assert all(
        c["_parentcustomerid_value"] in account_ids and c["fullname"] == f"{c['firstname']} {c['lastname']}"
        for c in dv_contacts
    )
    bc_person_emails = {c["email"] for c in store.rows("bc/contacts") if c["type"] == "Person"}
    matched = sum(c["emailaddress1"] in bc_person_emails for c in dv_contacts)
    assert 0 < matched < len(dv_contacts)


def test_ensure_seeded_only_seeds_an_empty_store_and_reset_restores() -> None:
    settings = SandboxSettings()
    store = EntityStore()
    assert demo_data.ensure_seeded(store, settings) is True
    first = list(store.rows("bc/customers"))[0]
    store.update("bc/customers", first["id"], {"city": "Elsewhere"})
    assert demo_data.ensure_seeded(store, settings) is False
    assert store.get("bc/customers", first["id"])["city"] == "Elsewhere"
    demo_data.reset(store, settings)
    assert store.get("bc/customers", first["id"])["city"] == first["city"]
    assert store.count("bc/customers") == 50


# ------------------------------------------------------- bulk chunks on disk


def _on_disk(store: EntityStore, sets: tuple[str, ...]) -> dict[str, object]:
    return {s: (list(store.rows(s)), store.deletions(s)) for s in sets}


def test_a_reopen_restores_bulk_rows_with_their_updates_deletions_and_order(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = EntityStore(path)
    store.insert("bc/customers", "early", {"displayName": "Inserted before the load"})
    store.bulk_load("bc/customers", [(f"c{i}", {"displayName": f"Bulk {i}"}) for i in range(25_000)])
    store.update("bc/customers", "c3", {"city": "Lyon"})  # keeps its place among the bulk rows
    store.delete("bc/customers", "c5")
    store.delete("bc/customers", "c7")
    store.insert("bc/customers", "c7", {"displayName": "Back again"})  # goes last, as in memory
    store.update("bc/customers", "c9", {"city": "Oslo"})
    store.delete("bc/customers", "c9")  # deleted after an update: neither copy may come back
    store.bulk_load("dv/accounts", [(f"a{i}", {"name": f"Account {i}"}) for i in range(3)])
    store.delete("dv/accounts", "a1")
    store.bulk_load("dv/accounts", [("a1", {"name": "One again"})])  # a bulk re-insert after a delete
    sets = ("bc/customers", "dv/accounts")
    expected = _on_disk(store, sets)
    version = store.version
    store.close()

    reopened = EntityStore(path)
    assert _on_disk(reopened, sets) == expected
    customers = list(reopened.rows("bc/customers"))
    assert customers[0]["displayName"] == "Inserted before the load" and customers[-1]["displayName"] == "Back again"
    assert reopened.get("bc/customers", "c3")["city"] == "Lyon" and reopened.get("bc/customers", "c9") is None
    assert [r["name"] for r in reopened.rows("dv/accounts")] == ["Account 0", "Account 2", "One again"]
    assert reopened.version == version
    reopened.close()


def test_refresh_picks_up_a_bulk_load_and_its_changes_from_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    server, editor = EntityStore(path), EntityStore(path)
    server.insert("bc/contacts", "mine", {"displayName": "Server's own"})
    editor.refresh()
    editor.bulk_load("bc/contacts", [(f"k{i}", {"displayName": f"Loaded {i}"}) for i in range(3)])
    editor.delete("bc/contacts", "k1")
    editor.update("bc/contacts", "k2", {"displayName": "Loaded 2, edited"})
    server.refresh()
    assert [r["displayName"] for r in server.rows("bc/contacts")] == ["Server's own", "Loaded 0", "Loaded 2, edited"]
    assert [d[0] for d in server.deletions("bc/contacts")] == ["k1"]
    assert list(server.rows("bc/contacts")) == list(editor.rows("bc/contacts"))
    server.close(), editor.close()


def test_bulk_load_stamps_the_given_rows_in_place(store: EntityStore) -> None:
    rows = [("a", {"name": "A", "_version": 0, "_modified": ""}), ("b", {"name": "B"})]
    before = store.version
    assert store.bulk_load("dv/accounts", rows) == 2
    a, b = store.rows("dv/accounts")
    assert a is rows[0][1] and b is rows[1][1]  # live rows, no copies
    assert (a["_version"], b["_version"]) == (before + 1, before + 2) == (store.version - 1, store.version)
    assert a["_modified"] < b["_modified"] and list(a) == ["name", "_version", "_modified"]


def test_bulk_load_refuses_a_key_that_exists_already(store: EntityStore) -> None:
    store.insert("bc/customers", "a", {"displayName": "Alpha"})
    with pytest.raises(DuplicateKey, match=r"bc/customers\(a\)"):
        store.bulk_load("bc/customers", [("b", {}), ("a", {})])
    assert [r["displayName"] for r in store.rows("bc/customers")] == ["Alpha"]


def test_a_file_in_the_first_layout_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.sqlite"
    with sqlite3.connect(path) as db:  # format 1: one JSON document per row, no user_version
        db.execute(
            "CREATE TABLE entity(entity_set TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL,"
            " data TEXT NOT NULL, PRIMARY KEY (entity_set, key))"
        )
        db.execute("CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO entity VALUES ('bc/companies', 'x', 1, '{\"id\": \"x\", \"_version\": 1}')")
        db.execute("INSERT INTO meta VALUES ('version', '1')")
    with pytest.raises(SandboxDataError, match="was made by an older bc-tui; run 'bc-tui sandbox reset --data "):
        EntityStore(path)
    with sqlite3.connect(path) as db:  # nothing was changed
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM entity").fetchone()[0] == 1
    assert FORMAT == 3


def test_modified_stamps_of_a_bulk_load_cross_second_and_day_boundaries() -> None:
    start = datetime(2026, 12, 31, 23, 59, 59, 999_998)
    stamps = list(itertools.islice(iso_series(start), 5))
    assert stamps == [iso(start + timedelta(microseconds=k)) for k in range(5)]
    assert stamps[2] == "2027-01-01T00:00:00.000000Z"


def test_a_seeded_file_reopens_to_the_same_demo_data(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.sqlite"
    settings = SandboxSettings(customers=300)
    sets = ("bc/companies", "bc/customers", "bc/contacts", "dv/systemusers", "dv/accounts", "dv/contacts")
    store = EntityStore(path)
    demo_data.ensure_seeded(store, settings)
    seeded = _on_disk(store, sets)
    store.close()
    reopened = EntityStore(path)
    assert _on_disk(reopened, sets) == seeded
    assert demo_data.ensure_seeded(reopened, settings) is False
    reopened.close()
