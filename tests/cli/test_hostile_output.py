"""Record data is data in the CLI's output (issue 7): names with terminal controls, bidi
overrides, markup-like brackets and 10,000 characters.

Text output never holds a raw control character (C0 but newline, DEL, C1, bidi overrides) and
shortens long values; ``--json`` keeps every value exact (escaped, so nothing raw reaches the
terminal either).
"""

from __future__ import annotations

import json
import re
from typing import Any

from bc_tui.commands.output import EXIT_FAILURES, EXIT_OK, LINE_LIMIT

# Every class at once: OSC "set window title" (ESC … BEL), "clear screen", a C1 CSI, DEL, a
# right-to-left override, and brackets that look like markup.
HOSTILE = "Adatum \x1b]0;pwned\x07 \x1b[2J\x9b31m\x7f \u202eproc\u202c [/old] [@click=app.quit]Evil[/]"
SHOWN = "Adatum ␛]0;pwned␇ ␛[2J\ufffd31m␡ \ufffdproc\ufffd [/old] [@click=app.quit]Evil[/]"
HUGE = "\x1b[2J" + "W" * 10_000  # longer than Dataverse's 160 characters for an account name

RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def assert_clean(text: str) -> None:
    """Nothing a terminal would obey: only newlines end lines, no other control is raw."""
    match = RAW.search(text)
    assert match is None, (
        f"raw {match.group()!r} at {match.start()}: {text[max(match.start() - 40, 0) : match.start() + 10]!r}"
    )


def assert_clean_run(result: Any) -> None:
    assert_clean(result.out)
    assert_clean(result.err)


def walk_strings(value: Any) -> list[str]:
    """Every string inside a JSON document."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in walk_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in walk_strings(v)]
    return []


def test_hostile_names_are_printable_in_text_and_exact_in_json(cli, sandbox) -> None:
    customer = sandbox.customer("10000")
    sandbox.edit("bc/customers", customer["id"], {"displayName": HOSTILE})

    created = cli("create", "10000")
    assert created.code == EXIT_OK, created.err
    assert_clean_run(created)
    assert SHOWN in created.out

    status = cli("status")
    assert status.code == EXIT_OK
    assert_clean_run(status)

    log = cli("log", "--json")
    assert_clean_run(log)
    [job] = [j for j in log.json["jobs"] if j["type"] == "creation"]
    detail = cli("log", "--job", str(job["id"]), "--json")
    assert_clean_run(detail)

    # --json: the exact name, escaped (json.loads gives it back byte for byte).
    document = cli("create", "10000", "--json")
    assert_clean_run(document)
    assert any(HOSTILE in text for text in walk_strings(document.json)), document.out[:500]
    # C1 and bidi characters are escaped in JSON like the C0 ones json escapes itself.
    assert "\\u009b" in document.out and "\\u202e" in document.out and "\\u001b" in document.out


def test_a_failed_synchronization_of_a_huge_name_is_short_in_text_and_whole_in_json(cli, sandbox) -> None:
    coupled = cli("couple", "10000", "--to", "Adatum Corporation", "--sync", "to-dataverse", "--json")
    assert coupled.code == EXIT_OK, coupled.err
    sandbox.edit("bc/customers", sandbox.customer("10000")["id"], {"displayName": HUGE})

    sent = cli("sync", "10000", "--direction", "to-dataverse")
    assert sent.code == EXIT_FAILURES, sent.err
    assert_clean_run(sent)
    assert all(len(line) <= LINE_LIMIT + 40 for line in sent.out.splitlines())
    # The name is cut ("… (10,004 characters)"), what Dataverse said about it is still there.
    failed = next(line for line in sent.out.splitlines() if "failed" in line and "160" in line)
    assert "␛[2JWWWW" in failed and "characters)" in failed

    again = cli("sync", "10000", "--direction", "to-dataverse", "--json")
    assert again.code == EXIT_FAILURES
    assert_clean_run(again)
    [result] = again.json["results"]
    assert HUGE in result["message"] or HUGE in result["description"]

    for args in (("errors",), ("log",), ("status",)):
        text = cli(*args)
        assert_clean_run(text)
        assert all(len(line) <= LINE_LIMIT + 40 for line in text.out.splitlines()), args
    errors = cli("errors")
    assert "10000" in errors.out and "characters)" in errors.out
    failed_job = next(j for j in cli("log", "--json").json["jobs"] if j["failed"])
    detail = cli("log", "--job", str(failed_job["id"]))
    assert_clean_run(detail)
    assert "160" in detail.out and "characters)" in detail.out

    whole = cli("errors", "--json")
    assert_clean_run(whole)
    assert any(HUGE in text for text in walk_strings(whole.json))
    assert json.loads(whole.out) == whole.json  # one document, nothing else on stdout
