"""The mark set: explicit keys, "mark all" as a flag plus exclusions, frozen snapshots."""

from __future__ import annotations

from bc_tui.tui.marks import Marks


def test_toggle_and_count_follow_keys() -> None:
    marks = Marks()
    assert marks.toggle("a") is True
    marks.mark(["b", "c"])
    assert marks.toggle("b") is False
    assert marks.count(total=10) == 2
    assert marks.snapshot().keys == ("a", "c")


def test_mark_all_is_a_flag_with_exclusions() -> None:
    marks = Marks()
    marks.mark_all()
    marks.unmark("x")
    assert marks.count(total=100_000) == 99_999
    selection = marks.snapshot()
    assert selection.all and selection.excluded == {"x"}
    assert "y" in selection and "x" not in selection
    marks.mark(["x"])
    assert marks.count(total=100_000) == 100_000


def test_clear_empties_everything() -> None:
    marks = Marks()
    marks.mark_all()
    marks.clear()
    assert marks.is_empty and marks.count(total=5) == 0
