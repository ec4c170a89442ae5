"""``bc-tui delete-coupling``, its documented alias ``uncouple``, and how the job is shown."""

from __future__ import annotations

EXIT_OK, EXIT_USAGE = 0, 2


def test_delete_coupling_deletes_the_coupling_and_the_log_says_so(cli) -> None:
    assert cli("couple", "10000", "--to", "Adatum Corporation").code == EXIT_OK
    deleted = cli("delete-coupling", "10000", "--json")
    assert deleted.code == EXIT_OK, deleted.err
    assert deleted.json["counters"]["uncoupled"] == 1
    assert cli("status", "--json").json["couplings"]["CUSTOMER"] == 0

    # The log shows the domain's words; --json keeps the stored job type for scripts.
    [line] = cli("log", "--limit", "1").out.splitlines()[:1]
    assert "Delete coupling CUSTOMER" in line and "uncoupling" not in line
    assert cli("log", "--limit", "1", "--json").json["jobs"][0]["type"] == "uncoupling"


def test_uncouple_is_an_alias_that_still_works(cli) -> None:
    assert cli("couple", "10000", "--to", "Adatum Corporation").code == EXIT_OK
    result = cli("uncouple", "10000")
    assert result.code == EXIT_OK, result.err
    assert cli("status", "--json").json["couplings"]["CUSTOMER"] == 0


def test_the_help_names_the_alias(cli, capsys) -> None:
    from bc_tui.cli import build_parser

    overview = build_parser().format_help()
    assert "delete-coupling (uncouple)" in overview and "'uncouple' is an alias" in overview
    usage = cli("delete-coupling")
    assert usage.code == EXIT_USAGE and "--all" in usage.err
