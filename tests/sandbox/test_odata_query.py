"""The sandbox's server-side OData query options: $filter, $orderby, $select, $top, $skip…"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bc_tui.sandbox.odata_query import (
    Query,
    QueryError,
    apply_select,
    parse_filter,
    parse_orderby,
    parse_query,
    parse_select,
    sort_rows,
)

GUID_A = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
GUID_B = "9b2f1c7a-0000-4000-8000-00000000000b"

CUSTOMERS: list[dict[str, Any]] = [
    {
        "number": "C1",
        "name": "Contoso",
        "city": "Seattle",
        "balance": 100,
        "blocked": False,
        "lastModifiedDateTime": "2026-01-01T10:00:00Z",
        "_parentcustomerid_value": GUID_A.upper(),
    },
    {
        "number": "C2",
        "name": "Fabrikam",
        "city": "Paris",
        "balance": 250.5,
        "blocked": True,
        "lastModifiedDateTime": "2026-02-15T08:30:00.1234567Z",
        "_parentcustomerid_value": GUID_B,
    },
    {
        "number": "C3",
        "name": "O'Brien",
        "city": None,
        "balance": -5,
        "blocked": False,
        "lastModifiedDateTime": "2025-12-31T23:59:59Z",
    },
    {
        "number": "C4",
        "name": "adatum",
        "city": "seattle",
        "balance": 0,
        "blocked": False,
        "lastModifiedDateTime": "2026-01-01T11:00:00+01:00",
        "_parentcustomerid_value": None,
    },
]


def matching(expression: str, rows: list[dict[str, Any]] = CUSTOMERS) -> list[str]:
    """Numbers of the rows the filter keeps, in row order."""
    predicate = parse_filter(expression)
    return [row["number"] for row in rows if predicate(row)]


# --------------------------------------------------------------------------- comparisons


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("balance eq 100", ["C1"]),
        ("balance ne 100", ["C2", "C3", "C4"]),
        ("balance gt 100", ["C2"]),
        ("balance ge 100", ["C1", "C2"]),
        ("balance lt 0", ["C3"]),
        ("balance le 0", ["C3", "C4"]),
        ("balance eq 250.5", ["C2"]),
        ("balance eq 250.5M", ["C2"]),
        ("balance gt -5", ["C1", "C2", "C4"]),
        ("balance eq 1e2", ["C1"]),
        ("blocked eq true", ["C2"]),
        ("blocked eq false", ["C1", "C3", "C4"]),
        ("blocked", ["C2"]),
        ("not blocked", ["C1", "C3", "C4"]),
        ("name gt 'D'", ["C2", "C3"]),
        ("number lt 'c3'", ["C1", "C2"]),
        ("100 eq balance", ["C1"]),
        ("city eq name", []),
    ],
)
def test_comparison_operators(expression: str, expected: list[str]) -> None:
    assert matching(expression) == expected


def test_string_equality_is_case_insensitive_like_the_services_collation() -> None:
    assert matching("name eq 'CONTOSO'") == ["C1"]
    assert matching("city eq 'SEATTLE'") == ["C1", "C4"]
    assert matching("city ne 'seattle'") == ["C2", "C3"]
    # Ordering is case-insensitive as well: "adatum" sorts before "B".
    assert matching("name lt 'B'") == ["C4"]


def test_true_does_not_equal_one() -> None:
    assert matching("blocked eq 1") == []
    assert matching("balance eq true") == []


def test_mismatched_types_are_not_equal_and_never_ordered() -> None:
    assert matching("name eq 5") == []
    assert matching("name ne 5") == ["C1", "C2", "C3", "C4"]
    assert matching("name gt 5") == []


# --------------------------------------------------------------------------- functions


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("contains(name,'on')", ["C1"]),
        ("contains(name,'ON')", ["C1"]),
        ("contains(name, 'a')", ["C2", "C4"]),
        ("startswith(name,'fab')", ["C2"]),
        ("endswith(name,'UM')", ["C4"]),
        ("startswith(city,'sea')", ["C1", "C4"]),
        ("tolower(name) eq 'contoso'", ["C1"]),
        ("toupper(city) eq 'PARIS'", ["C2"]),
        ("trim('  Paris ') eq city", ["C2"]),
        ("length(name) eq 6", ["C4"]),
        ("length(city) gt 5", ["C1", "C4"]),
        ("concat(number, name) eq 'C1Contoso'", ["C1"]),
        ("contains(tolower(name), 'brien')", ["C3"]),
        ("contains(name,'on') eq true", ["C1"]),
        ("contains(name,'on') eq false", ["C2", "C3", "C4"]),
    ],
)
def test_functions(expression: str, expected: list[str]) -> None:
    assert matching(expression) == expected


def test_string_functions_on_null_match_nothing() -> None:
    assert matching("contains(city,'a')") == ["C1", "C2", "C4"]  # C3's city is null
    assert matching("startswith(missing,'a')") == []
    # not applies to the function's false for null, so the null city is kept.
    assert matching("not endswith(city,'e')") == ["C2", "C3"]


# --------------------------------------------------------------------------- logic


def test_and_binds_tighter_than_or() -> None:
    # a or (b and c), not (a or b) and c
    assert matching("name eq 'Contoso' or city eq 'Paris' and balance gt 1000") == ["C1"]
    assert matching("(name eq 'Contoso' or city eq 'Paris') and balance gt 1000") == []


def test_not_binds_tighter_than_and_but_looser_than_comparison() -> None:
    assert matching("not balance eq 100 and city eq 'seattle'") == ["C4"]
    assert matching("not (balance eq 100 and city eq 'seattle')") == ["C2", "C3", "C4"]
    assert matching("not not blocked") == ["C2"]


def test_nested_parentheses() -> None:
    expression = "((balance gt 0) and ((city eq 'Paris') or (name eq 'Contoso'))) or (number eq 'C3')"
    assert matching(expression) == ["C1", "C2", "C3"]
    assert matching("(name) eq 'Fabrikam'") == ["C2"]


def test_literal_conditions() -> None:
    assert matching("true") == ["C1", "C2", "C3", "C4"]
    assert matching("false or number eq 'C4'") == ["C4"]


# --------------------------------------------------------------------------- quoting and injection


def test_escaped_quote_matches_exactly() -> None:
    assert matching("name eq 'O''Brien'") == ["C3"]
    assert matching("name eq 'o''brien'") == ["C3"]
    assert matching("contains(name,'''')") == ["C3"]


@pytest.mark.parametrize(
    "search",
    [
        "x' or 1 eq 1 or '",
        "' or name ne '",
        "Contoso') or (1 eq 1",
        "' or true or '",
    ],
)
def test_injection_attempts_are_only_strings(search: str) -> None:
    escaped = search.replace("'", "''")
    assert matching(f"name eq '{escaped}'") == []
    assert matching(f"contains(name,'{escaped}')") == []


def test_unescaped_injection_is_a_syntax_error_or_harmless() -> None:
    # A client that forgets to escape gets an error, not a widened result.
    with pytest.raises(QueryError):
        parse_filter("name eq 'O'Brien'")


# --------------------------------------------------------------------------- datetimes, dates, guids


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("lastModifiedDateTime gt 2026-01-01T00:00:00Z", ["C1", "C2", "C4"]),
        ("lastModifiedDateTime gt 2026-01-01T10:00:00Z", ["C2"]),
        ("lastModifiedDateTime ge 2026-01-01T10:00:00Z", ["C1", "C2", "C4"]),
        # C4 is 11:00+01:00, the same instant as C1's 10:00Z.
        ("lastModifiedDateTime eq 2026-01-01T10:00:00Z", ["C1", "C4"]),
        ("lastModifiedDateTime eq 2026-01-01T11:00:00+01:00", ["C1", "C4"]),
        ("lastModifiedDateTime gt 2026-02-15T08:30:00.123Z", ["C2"]),
        ("lastModifiedDateTime lt 2026-02-15T08:30:00.1234567Z", ["C1", "C3", "C4"]),
        ("lastModifiedDateTime lt 2026-01-01T00:00-05:00", ["C3"]),
        ("lastModifiedDateTime lt 2026-01-01", ["C3"]),
        ("lastModifiedDateTime ge 2026-02-01", ["C2"]),
        ("2026-01-01T00:00:00Z lt lastModifiedDateTime and balance gt 0", ["C1", "C2"]),
    ],
)
def test_datetime_literals_compare_as_instants(expression: str, expected: list[str]) -> None:
    assert matching(expression) == expected


def test_date_literal_against_date_field_and_datetime_objects() -> None:
    rows = [
        {"number": "A", "postingDate": "2026-03-01", "stamp": datetime(2026, 3, 1, 12, tzinfo=UTC)},
        {"number": "B", "postingDate": "2026-03-02", "stamp": datetime(2026, 3, 2, 12)},  # naive = UTC
        {"number": "C", "postingDate": "not a date", "stamp": None},
    ]
    assert matching("postingDate eq 2026-03-01", rows) == ["A"]
    assert matching("postingDate gt 2026-03-01", rows) == ["B"]
    assert matching("postingDate ne 2026-03-01", rows) == ["B", "C"]
    assert matching("stamp gt 2026-03-02T00:00:00Z", rows) == ["B"]
    assert matching("stamp lt 2026-03-02T00:00:00+01:00", rows) == ["A"]


@pytest.mark.parametrize(
    "literal",
    [GUID_A, GUID_A.upper(), f"guid'{GUID_A}'", f"guid'{GUID_A.upper()}'", f"'{GUID_A}'"],
)
def test_guid_comparisons_ignore_case(literal: str) -> None:
    assert matching(f"_parentcustomerid_value eq {literal}") == ["C1"]
    assert matching(f"_parentcustomerid_value ne {literal}") == ["C2", "C3", "C4"]


def test_guid_starting_with_letters_is_a_guid_not_a_name() -> None:
    rows = [{"number": "X", "id": "DEADBEEF-0000-4000-8000-000000000001"}]
    assert matching("id eq deadbeef-0000-4000-8000-000000000001", rows) == ["X"]


# --------------------------------------------------------------------------- null


def test_null_semantics() -> None:
    assert matching("city eq null") == ["C3"]
    assert matching("city ne null") == ["C1", "C2", "C4"]
    # A missing field is null, as is an explicit None.
    assert matching("_parentcustomerid_value eq null") == ["C3", "C4"]
    assert matching("null eq _parentcustomerid_value") == ["C3", "C4"]
    assert matching("nosuchfield eq null") == ["C1", "C2", "C3", "C4"]
    # Ordering against null is never true, in either direction.
    assert matching("city gt null") == []
    assert matching("city le null") == []
    assert matching("city lt 'zzz'") == ["C1", "C2", "C4"]
    assert matching("not (city lt 'zzz')") == ["C3"]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("name eq", "position 7"),
        ("name eq 'abc", "unterminated string"),
        ("(name eq 'a'", "expected ')' to close the '(' at position 0"),
        ("name eq 'a')", "unexpected ')'"),
        ("name eq 'a' city", "unexpected 'city' after a complete expression"),
        ("foo(name)", "unknown function 'foo'"),
        ("substringof('a', name)", "unknown function 'substringof'"),
        ("contains(name)", "takes 2 arguments, got 1"),
        ("tolower(name, 'x')", "takes 1 argument, got 2"),
        ("name eq 'a' and", "the end of the expression"),
        ("name eq 'a' and or city eq 'b'", "found the operator 'or'"),
        ("name eq 'a' and 5", "expected a condition but found a number value"),
        ("'x'", "expected a condition but found a string value"),
        ("name eq #", "unexpected character '#'"),
        ("balance eq 12abc", "'12abc' is not a valid number"),
        ("stamp gt 2026-13-01T00:00:00Z", "not a valid datetime"),
        ("id eq guid'not-a-guid'", "not a valid GUID"),
        ("name EQ 'a'", "unexpected 'EQ'"),
        ("contains(name,'a'", "',' or ')'"),
    ],
)
def test_syntax_errors_name_position_and_cause(expression: str, fragment: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_filter(expression)
    message = str(caught.value)
    assert fragment in message
    assert "$filter" in message


def test_bare_property_is_a_condition_only_when_true() -> None:
    # The parser cannot know the schema, so a bare property may be a boolean one.
    predicate = parse_filter("name")
    assert [predicate(row) for row in ({"name": True}, {"name": "x"}, {"name": None}, {})] == [
        True,
        False,
        False,
        False,
    ]


def test_error_message_style() -> None:
    with pytest.raises(QueryError, match=r"^Syntax error at position 14 in \$filter: .+\.$"):
        parse_filter("name eq 'a' or")
    with pytest.raises(QueryError, match="empty"):
        parse_filter("   ")


# --------------------------------------------------------------------------- orderby, select, sort


def test_parse_orderby() -> None:
    assert parse_orderby("name") == [("name", False)]
    assert parse_orderby("name asc, city desc") == [("name", False), ("city", True)]
    assert parse_orderby("  balance   DESC ") == [("balance", True)]
    for bad in ["", "name,", "name sideways", "name asc desc", "na-me"]:
        with pytest.raises(QueryError):
            parse_orderby(bad)


def test_parse_select() -> None:
    assert parse_select("name,city") == ["name", "city"]
    assert parse_select(" number , _parentcustomerid_value ") == ["number", "_parentcustomerid_value"]
    assert parse_select("*") == ["*"]
    for bad in ["", "name,", "na me", "name;drop"]:
        with pytest.raises(QueryError):
            parse_select(bad)


def test_sort_rows_multi_key_stable_case_insensitive_nulls() -> None:
    rows = [
        {"id": 1, "city": "seattle", "name": "b"},
        {"id": 2, "city": None, "name": "a"},
        {"id": 3, "city": "Paris", "name": "B"},
        {"id": 4, "city": "Seattle", "name": "a"},
        {"id": 5, "city": "paris", "name": "b"},
        {"id": 6, "name": "c"},  # city missing = null
    ]
    ids = lambda result: [row["id"] for row in result]  # noqa: E731
    assert ids(sort_rows(rows, [("city", False)])) == [2, 6, 3, 5, 1, 4]
    assert ids(sort_rows(rows, [("city", True)])) == [1, 4, 3, 5, 2, 6]
    assert ids(sort_rows(rows, [("city", False), ("name", True)])) == [6, 2, 3, 5, 1, 4]
    assert ids(sort_rows(rows, [("name", False), ("city", True)])) == [4, 2, 1, 3, 5, 6]
    assert ids(sort_rows(rows, [])) == [1, 2, 3, 4, 5, 6]
    assert rows[0]["id"] == 1  # the input is not reordered


def test_sort_rows_numbers_and_mixed_types() -> None:
    rows = [{"v": 10}, {"v": 2.5}, {"v": None}, {"v": "text"}, {"v": -1}]
    assert [r["v"] for r in sort_rows(rows, [("v", False)])] == [None, -1, 2.5, 10, "text"]
    assert [r["v"] for r in sort_rows(rows, [("v", True)])] == ["text", 10, 2.5, -1, None]


def test_apply_select_keeps_annotations_and_nulls_missing() -> None:
    row = {"@odata.etag": 'W/"1"', "number": "C1", "name": "Contoso", "city": "Seattle"}
    assert apply_select(row, ["name", "phone"]) == {"@odata.etag": 'W/"1"', "name": "Contoso", "phone": None}
    assert apply_select(row, None) == row
    assert apply_select(row, ["*"]) == row


# --------------------------------------------------------------------------- parse_query


def test_parse_query_reads_every_option() -> None:
    query = parse_query(
        {
            "$filter": "city eq 'seattle'",
            "$orderby": "name desc",
            "$select": "number,name",
            "$top": "10",
            "$skip": "5",
            "$count": "true",
            "$skiptoken": "abc",
            "company": "CRONUS",  # not a system query option: ignored
        }
    )
    assert query.filter is not None
    assert [row["number"] for row in CUSTOMERS if query.filter(row)] == ["C1", "C4"]
    assert query.orderby == (("name", True),)
    assert query.select == ("number", "name")
    assert (query.top, query.skip, query.count, query.skiptoken) == (10, 5, True, "abc")


def test_parse_query_defaults() -> None:
    assert parse_query({}) == Query()
    assert parse_query({"$count": "FALSE", "$select": "*"}) == Query(count=False, select=None)


def test_parse_query_refuses_skip_when_not_allowed() -> None:
    with pytest.raises(QueryError, match=r"^The query parameter \$skip is not supported$"):
        parse_query({"$skip": "10"}, allow_skip=False)
    assert parse_query({"$top": "10"}, allow_skip=False).top == 10


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"$expand": "contacts"}, "The query parameter $expand is not supported"),
        ({"$apply": "groupby((city))"}, "$apply is not supported"),
        ({"$top": "-1"}, "$top"),
        ({"$top": "ten"}, "non-negative integer"),
        ({"$top": "1.5"}, "$top"),
        ({"$skip": "-3"}, "$skip"),
        ({"$skip": ""}, "$skip"),
        ({"$count": "yes"}, "$count"),
        ({"$filter": "name eq"}, "Syntax error"),
        ({"$orderby": "name up"}, "$orderby"),
        ({"$select": "a b"}, "$select"),
    ],
)
def test_parse_query_errors(params: dict[str, str], fragment: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(params)
    assert fragment in str(caught.value)


def test_parse_query_max_top() -> None:
    assert parse_query({"$top": "5000"}, max_top=5000).top == 5000
    with pytest.raises(QueryError, match="maximum of 5000"):
        parse_query({"$top": "5001"}, max_top=5000)


# --------------------------------------------------------------------------- properties and scale


NAMES = ["Contoso", "contoso", "O'Brien", "o''brien", "x' or 1 eq 1 or '", "", "Ünïcode", "'", "''"]
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


@settings(max_examples=150, deadline=None)
@given(s=st.one_of(st.sampled_from(NAMES), ANY_TEXT))
def test_escaped_string_literal_matches_exactly_the_equal_names(s: str) -> None:
    rows = [{"number": str(i), "name": name} for i, name in enumerate([*NAMES, s, s.upper(), s + "x"])]
    predicate = parse_filter(f"name eq '{s.replace(chr(39), chr(39) * 2)}'")
    kept = [row["name"] for row in rows if predicate(row)]
    assert kept == [row["name"] for row in rows if row["name"].casefold() == s.casefold()]
    assert s in kept


@settings(max_examples=100, deadline=None)
@given(a=st.integers(-5, 5), b=st.integers(-5, 5), c=st.booleans())
def test_precedence_matches_python_boolean_logic(a: int, b: int, c: bool) -> None:
    row = {"a": a, "b": b, "c": c}
    assert parse_filter("a gt 0 or b gt 0 and c")(row) == (a > 0 or (b > 0 and c))
    assert parse_filter("not a gt 0 and b le 0")(row) == ((not a > 0) and b <= 0)
    assert parse_filter("not (a gt 0 or b eq a) or c eq false")(row) == (not (a > 0 or b == a) or not c)


def test_filtering_100000_rows_works() -> None:
    rows = [
        {
            "number": f"C{i:06d}",
            "name": f"Customer {i}",
            "balance": i % 1000,
            "lastModifiedDateTime": f"2026-01-{1 + i % 28:02d}T00:00:00Z",
        }
        for i in range(100_000)
    ]
    predicate = parse_filter("contains(name,'99') and balance ge 500 and lastModifiedDateTime gt 2026-01-14T00:00:00Z")
    kept = [row for row in rows if predicate(row)]
    expected = [
        row
        for row in rows
        if "99" in row["name"] and row["balance"] >= 500 and row["lastModifiedDateTime"] > "2026-01-14T00:00:00Z"
    ]
    assert kept == expected
    assert len(kept) > 100


def test_a_key_list_filter_names_its_keys_and_still_filters() -> None:
    """`id eq 'a' or id eq 'b'` is what clients send to fetch records by id: the API looks them up by key."""
    from bc_tui.sandbox.odata_query import key_candidates

    predicate = parse_filter("id eq 'A1' or id eq 'b2' or id eq 3f2504e0-4f89-11d3-9a0c-0305e82c3301")
    assert key_candidates(predicate, "id") == frozenset({"a1", "b2", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"})
    assert key_candidates(predicate, "number") is None
    assert predicate({"id": "a1"}) and predicate({"id": "B2"}) and not predicate({"id": "c3"})
    assert key_candidates(parse_filter("id eq 'a' or name eq 'b'"), "id") is None
    assert key_candidates(parse_filter("id eq 'a' and name eq 'b'"), "id") is None
