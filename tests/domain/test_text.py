"""Data shown as data: control characters get visible stand-ins, long values are shortened."""

from bc_tui.domain.text import printable, shorten, shorten_words


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


def test_long_words_in_a_sentence_are_shortened_and_the_rest_is_kept() -> None:
    text = shorten_words("Dataverse rejected customer 10000 \x1b[2J" + "W" * 10_000 + ": the name is too long.", 50)
    # The run is "␛[2J", the 10,000 W and the colon: 10,005 characters, cut to 49 and "…".
    assert text == (
        "Dataverse rejected customer 10000 \u241b[2J" + "W" * 45 + "… (10,005 characters) the name is too long."
    )
    assert shorten_words("short words stay as they are") == "short words stay as they are"
