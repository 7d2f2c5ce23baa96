import pytest

from award_service.text import TextError, clean_text, search_key


def test_clean_text_normalises_and_collapses():
    # "Ә" written as A + combining diaeresis? No: Kazakh Ә is its own letter; use a decomposed "й".
    decomposed = "Жанболат  Ии\u0306\t".replace("\t", "")
    assert clean_text("  " + decomposed + "  ", max_length=50) == "Жанболат Ий"


def test_clean_text_refuses_control_characters_and_bounds_length():
    with pytest.raises(TextError):
        clean_text("Name\x00", max_length=50)
    with pytest.raises(TextError):
        clean_text("Name\nSurname", max_length=50)
    with pytest.raises(TextError):
        clean_text("x" * 51, max_length=50)
    assert clean_text("a\r\n\r\n\r\n\r\nb", max_length=50, multiline=True) == "a\n\nb"


def test_search_key_is_case_insensitive_for_kazakh():
    assert search_key("ӘБЕНОВ Ұлан") == search_key("әбенов ұлан")
