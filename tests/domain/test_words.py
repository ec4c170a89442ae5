"""One home for the words: directions, job types and the "not connected" sentence."""

from __future__ import annotations

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.recommend import OPTION_TEXT, recommend_many
from bc_tui.domain.words import (
    DIRECTION_WORDS,
    ONE_RECORD_DIRECTIONS,
    ONE_WAY_DIRECTIONS,
    job_type_text,
    not_connected,
    short_direction,
)
from bc_tui.store.jobs import JobType


def test_every_direction_has_its_words_and_the_cli_choices_come_from_them() -> None:
    assert set(DIRECTION_WORDS) == set(SyncDirection)
    assert tuple(direction.value for direction in SyncDirection) == ONE_RECORD_DIRECTIONS
    assert ONE_WAY_DIRECTIONS == ("to-dataverse", "from-dataverse")
    for direction, words in DIRECTION_WORDS.items():
        assert words.value == direction.value and short_direction(direction.value) == words.short
        assert OPTION_TEXT[direction] == words.option


def test_the_coupling_dialogs_offer_the_table_words() -> None:
    from bc_tui.tui.dialogs.coupling import SYNC_AFTER_CHOICES
    from bc_tui.tui.dialogs.match import SYNC_AFTER_TEXT

    for value in ONE_WAY_DIRECTIONS:
        words = DIRECTION_WORDS[SyncDirection(value)]
        assert (words.after_coupling, value) in SYNC_AFTER_CHOICES
        assert SYNC_AFTER_TEXT[SyncDirection(value)] == words.after_coupling


def test_the_argparse_choices_are_the_table_words() -> None:
    import argparse

    from bc_tui.cli import build_parser

    def option(command: str, flag: str) -> argparse.Action:
        subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
        return next(a for a in subparsers.choices[command]._actions if flag in a.option_strings)

    assert tuple(option("sync", "--direction").choices) == ONE_RECORD_DIRECTIONS
    assert tuple(option("couple", "--sync").choices) == ONE_WAY_DIRECTIONS
    assert tuple(option("match", "--sync").choices) == ONE_WAY_DIRECTIONS


def test_the_recommendation_asks_with_the_option_words() -> None:
    import dataclasses

    from bc_tui.domain.defaults import customer_mapping
    from bc_tui.domain.mappings import Direction

    for table_direction, direction in (
        (Direction.TO_DATAVERSE, SyncDirection.TO_DATAVERSE),
        (Direction.FROM_DATAVERSE, SyncDirection.FROM_DATAVERSE),
    ):
        one_way = dataclasses.replace(customer_mapping(), direction=table_direction)
        question = recommend_many(one_way, 3).question
        assert question == f"{DIRECTION_WORDS[direction].option.rstrip('.')} for the 3 selected records?"


def test_an_unknown_stored_direction_is_shown_as_stored() -> None:
    assert short_direction(None) == "" and short_direction("sideways") == "sideways"


def test_the_stored_uncoupling_job_is_shown_as_delete_coupling() -> None:
    assert JobType.UNCOUPLING.value == "uncoupling"  # what existing databases hold, unchanged
    assert job_type_text(JobType.UNCOUPLING) == "Delete coupling"
    assert job_type_text("uncoupling") == "Delete coupling"
    assert {job_type_text(kind) for kind in JobType} == {
        "Synchronization",
        "Coupling",
        "Delete coupling",
        "Creation",
        "Match coupling",
        "Check couplings",
    }
    assert job_type_text("a type from a newer version") == "a type from a newer version"


def test_not_connected_is_one_sentence_with_or_without_a_problem() -> None:
    waiting = not_connected(None)
    assert "still being made" in waiting and waiting.endswith(".")
    failed = not_connected("Cannot sign in to Business Central: invalid client secret. Set BC_TUI_CLIENT_SECRET")
    assert failed.startswith("Not connected: Cannot sign in to Business Central")
    assert "BC_TUI_CLIENT_SECRET. Coupling and synchronization are unavailable until this is fixed." in failed
