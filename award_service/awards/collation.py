"""Presentation order: Kazakh alphabetical order, not code-point order.

    А Ә Б В Г Ғ Д Е Ё Ж З И Й К Қ Л М Н Ң О Ө П Р С Т У Ұ Ү Ф Х Һ Ц Ч Ш Щ Ъ Ы І Ь Э Ю Я

Code-point order puts Ә Ғ Қ Ң Ө Ұ Ү Һ І after Я.  Names written in the 2021
Kazakh Latin alphabet (A Ä B D E F G Ğ H I İ J K L M N Ñ O Ö P Q R S Ş T U Ū Ü V
Y Z) sort after the Cyrillic ones, in that alphabet's order.

:func:`sort_key` gives a string of two-digit letter numbers ("00" between the
parts of a name), so that any database orders it the same way under any
collation: digits compare alike everywhere.
"""

from __future__ import annotations

import unicodedata

CYRILLIC = [
    "А",
    "Ә",
    "Б",
    "В",
    "Г",
    "Ғ",
    "Д",
    "Е",
    "Ё",
    "Ж",
    "З",
    "И",
    "Й",
    "К",
    "Қ",
    "Л",
    "М",
    "Н",
    "Ң",
    "О",
    "Ө",
    "П",
    "Р",
    "С",
    "Т",
    "У",
    "Ұ",
    "Ү",
    "Ф",
    "Х",
    "Һ",
    "Ц",
    "Ч",
    "Ш",
    "Щ",
    "Ъ",
    "Ы",
    "І",
    "Ь",
    "Э",
    "Ю",
    "Я",
]
# The 2021 alphabet, then the Latin letters it does not use (names spelled the
# Russian or English way: C, W, X).
LATIN = [
    "A",
    "Ä",
    "B",
    "C",
    "D",
    "E",
    "F",
    "G",
    "Ğ",
    "H",
    "I",
    "İ",
    "J",
    "K",
    "L",
    "M",
    "N",
    "Ñ",
    "O",
    "Ö",
    "P",
    "Q",
    "R",
    "S",
    "Ş",
    "T",
    "U",
    "Ū",
    "Ü",
    "V",
    "W",
    "X",
    "Y",
    "Z",
]

_RANK: dict[str, int] = {}
for _i, _letter in enumerate(CYRILLIC + LATIN, start=1):
    _RANK[_letter] = _i
    _RANK[_letter.lower()] = _i
# Kazakh Latin pairs I/ı and İ/i: Python's lower() and upper() do not.
_RANK["ı"] = _RANK["I"]
_RANK["i"] = _RANK["İ"]
# Letters of neighbouring alphabets that turn up in names: as the Kazakh letter
# they are read as.
for _other, _as in {"Ї": "І", "ї": "І", "Є": "Е", "є": "Е", "Ў": "У", "ў": "У"}.items():
    _RANK[_other] = _RANK[_as]
_UNKNOWN = 99
_SEPARATOR = "00"


def _letter_rank(ch: str) -> int | None:
    rank = _RANK.get(ch)
    if rank is not None:
        return rank
    if not ch.isalpha():
        return None  # hyphens, apostrophes, dots: not part of the order
    # A Latin letter with a mark the alphabet lacks (é, ç): as its base letter.
    base = unicodedata.normalize("NFD", ch)[0]
    return _RANK.get(base, _UNKNOWN)


def word_key(word: str) -> str:
    word = unicodedata.normalize("NFC", word)
    return "".join(f"{rank:02d}" for rank in map(_letter_rank, word) if rank is not None)


def sort_key(surname: str, given_name: str = "", patronymic: str = "") -> str:
    """Surname first, then given name, then patronymic; within a part, a
    double surname's pieces in turn (so "Ахмет" comes before "Ахметов")."""
    parts = []
    for part in (surname, given_name, patronymic):
        for piece in part.replace("-", " ").split():
            parts.append(word_key(piece))
    return _SEPARATOR.join(parts)
