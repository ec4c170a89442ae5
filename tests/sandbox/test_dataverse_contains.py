"""Dataverse's ``contains`` on a text column and ``$count=true`` beside a page size, over HTTP, as
the coupling dialog's lookup uses them (docs/sandbox-fidelity.md, "contains on Dataverse text")."""

from __future__ import annotations

import httpx
import pytest
from dataverse_helpers import Dataverse, dv, error_of, new_accounts  # noqa: F401 - dv is a fixture

from bc_tui.sandbox.like_patterns import compiled


async def _names(dv: Dataverse, filter_text: str, **headers: str) -> httpx.Response:
    return await dv.get("accounts", params={"$filter": filter_text, "$select": "name"}, headers=headers)


async def test_contains_ignores_case_and_a_doubled_quote_is_one_quote(dv: Dataverse) -> None:
    await new_accounts(dv, {"name": "Lookup Margie's Motors"}, {"name": "Lookup Margies Motors"})
    found = await _names(dv, "contains(name,'GIE''S MOT')")
    assert found.status_code == 200, found.text
    assert [row["name"] for row in found.json()["value"]] == ["Lookup Margie's Motors"]
    inside = await _names(dv, "contains(name,'kup Marg')")
    assert sorted(row["name"] for row in inside.json()["value"]) == ["Lookup Margie's Motors", "Lookup Margies Motors"]


@pytest.mark.parametrize("text", ["contains(name,'Margie's')", "contains(name,'x') or name ne '"])
async def test_an_unescaped_quote_is_a_syntax_error_not_a_wider_filter(dv: Dataverse, text: str) -> None:
    refused = await _names(dv, text)
    assert refused.status_code == 400
    error = error_of(refused)
    assert error["code"] == "0x80060888" and "Syntax error" in error["message"]


async def test_count_true_counts_every_match_while_the_page_holds_a_few(dv: Dataverse) -> None:
    await new_accounts(dv, *({"name": f"Counted Lookup {n}"} for n in range(7)))
    answer = await dv.get(
        "accounts",
        params={"$filter": "contains(name,'ted Look')", "$select": "name", "$orderby": "name", "$count": "true"},
        headers={"Prefer": "odata.maxpagesize=3"},
    )
    body = answer.json()
    assert [row["name"] for row in body["value"]] == ["Counted Lookup 0", "Counted Lookup 1", "Counted Lookup 2"]
    assert body["@odata.count"] == 7 and "@odata.nextLink" in body


async def test_the_text_of_contains_is_a_like_pattern_as_on_the_service(dv: Dataverse) -> None:
    await new_accounts(
        dv,
        {"name": "Wild 50% Off"},
        {"name": "Wild 500 Off"},
        {"name": "Wild A_B"},
        {"name": "Wild AxB"},
        {"name": "Wild [x]"},
    )

    async def names(filter_text: str) -> list[str]:
        answer = await _names(dv, filter_text)
        assert answer.status_code == 200, answer.text
        return sorted(row["name"] for row in answer.json()["value"] if row["name"].startswith("Wild"))

    # Unescaped, the wildcards match more than the characters typed.
    assert await names("contains(name,'50%')") == ["Wild 50% Off", "Wild 500 Off"]
    assert await names("contains(name,'A_B')") == ["Wild A_B", "Wild AxB"]
    assert await names("startswith(name,'Wild [AW]')") == ["Wild A_B", "Wild AxB"]
    assert await names("endswith(name,'[^x]B')") == ["Wild A_B"]
    # In brackets each stands for itself: how a client asks for the text as typed.
    assert await names("contains(name,'50[%]')") == ["Wild 50% Off"]
    assert await names("contains(name,'A[_]B')") == ["Wild A_B"]
    assert await names("contains(name,'[[]x]')") == ["Wild [x]"]


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("%", "", True),
        ("a_c", "abc", True),
        ("a_c", "ac", False),
        ("[a-c]x", "bx", True),
        ("[a-c]x", "dx", False),
        ("[^a-c]x", "dx", True),
        ("[-a]x", "-x", True),
        ("[%]", "%", True),
        ("[%]", "a", False),
        ("a[", "a[", True),  # an unclosed bracket is itself
        ("A.B", "a.b", True),  # case is ignored; a dot is a dot
        ("A.B", "axb", False),
    ],
)
def test_like_patterns_read_as_sql_does(pattern: str, text: str, matches: bool) -> None:
    assert (compiled(pattern).fullmatch(text) is not None) is matches
