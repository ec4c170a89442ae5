"""What the user types comes back in the one-sentence error on stderr: printable and short.

A record number or a name on the command line can hold terminal controls (pasted from a record,
or from a script's variable) or be 10,000 characters long; the sentence that names it must not
hand the terminal a raw control character, and must keep its cause and next step in view.
"""

from __future__ import annotations

import re

from bc_tui.commands.output import EXIT_USAGE

RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_a_number_with_terminal_controls_is_printable_in_the_error(cli, sandbox) -> None:
    result = cli("sync", "1\x1b]0;pwned\x07\x1b[2J\u202e")

    assert result.code == EXIT_USAGE
    assert RAW.search(result.err) is None, repr(result.err)
    assert "1␛]0;pwned␇␛[2J\ufffd" in result.err
    [sentence] = [line for line in result.err.splitlines() if line.startswith("bc-tui: ")]
    assert sentence.endswith("try again.")


def test_a_10000_character_name_is_shortened_in_the_error(cli, sandbox) -> None:
    result = cli("couple", "10000", "--to", "Q" * 10_000)

    assert result.code == EXIT_USAGE
    assert "(10,000 characters)" in result.err
    assert len(result.err) < 600, result.err[:300]
    assert result.err.rstrip().endswith("does not exist in Dataverse.")


def test_an_argument_that_is_not_utf8_is_one_sentence(cli, data_dir) -> None:
    # Python hands bytes it cannot decode (here 0x9B, a C1 CSI in Latin-1) over as lone
    # surrogates; they can go neither into a request nor to the terminal.
    result = cli("sync", "\udc9bX")

    assert result.code == EXIT_USAGE
    [sentence] = [line for line in result.err.splitlines() if line.startswith("bc-tui: ")]
    assert "not valid UTF-8" in sentence and "0x9B" in sentence
    assert "Unexpected error" not in result.err and "report it" not in result.err
    assert RAW.search(result.err) is None and "\udc9b" not in result.err
    assert not (data_dir / "coupling.sqlite").exists()  # refused before anything was opened
