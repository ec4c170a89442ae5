"""Small wording checks of the CLI's text output."""

from __future__ import annotations

from tests.cli.conflicts import make_conflict


def test_one_coupling_needing_attention_is_singular(cli, sandbox) -> None:
    make_conflict(cli, sandbox)
    cli("sync", "--modified", "--mapping", "CUSTOMER")

    first_line = cli("errors").out.splitlines()[0]

    assert first_line == "1 coupling needs attention: 0 skipped, 1 conflict, 0 failed, 0 broken."
