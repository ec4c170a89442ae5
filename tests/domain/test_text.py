"""Data shown as data: control characters get visible stand-ins, long values are shortened."""

from bc_tui.domain.text import printable, shorten


def test_control_characters_become_visible_stand_ins() -> None:
    osc_title = "Evil\x1b]0;pwned\x07 Corp"
    assert printable(osc_title) == "Evil\u241b]0;pwned\u2407 Corp"
    assert printable("clear\x1b[2Jscreen") == "clear\u241b[2Jscreen"
    assert printable("a\x9bb\x7fc") == "a\ufffdb\u2421c"
    assert printable("right\u202eleft") == "right\ufffdleft"


def test_newlines_stay_only_when_asked() -> None:
    assert printable("one\ntwo") == "one\u240atwo"
    assert printable("one\ntwo\r", keep_newlines=True) == "one\ntwo\u240d"


def test_plain_text_and_none() -> None:
    assert printable("[DO NOT USE] Contoso ÄÖÜ 日本") == "[DO NOT USE] Contoso ÄÖÜ 日本"
    assert printable(None) == ""
    assert printable(10000) == "10000"


def test_long_values_are_shortened_with_their_length() -> None:
    text = shorten("A" * 10_000, 50)
    assert text.startswith("A" * 49 + "…")
    assert text.endswith("(10,000 characters)")
    assert len(text) < 80
    assert shorten("short") == "short"
