"""Names in Kazakh Cyrillic, Russian Cyrillic and the 2021 Kazakh Latin
alphabet, folded to keys for searching and for spotting likely duplicates.

``search_key`` folds any spelling to one lower-case Latin form, so that
"Жанболат", "жанболат" and "Janbolat" find each other.  ``skeleton`` goes
further for duplicate detection: patronymic and family suffixes dropped
(-ов/-ова/-ев/-ин, -ұлы/-қызы, -ович/-овна), vowels dropped and sound-alike
consonants merged, so that Жанболат and Джанбулатов share "JNBLT".

In the core (no imports but the standard library) because two features use
it: the nominations (nominee search, duplicate detection) and the ceremonies
(the attendee and door search over ``registrations.name_key``).
"""

from __future__ import annotations

import re
import unicodedata

# Cyrillic (Kazakh and Russian letters) -> a Latin spelling.
_CYRILLIC = {
    "а": "a",
    "ә": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "ғ": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "j",
    "з": "z",
    "и": "i",
    "й": "i",
    "к": "k",
    "қ": "q",
    "л": "l",
    "м": "m",
    "н": "n",
    "ң": "n",
    "о": "o",
    "ө": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ұ": "u",
    "ү": "u",
    "ф": "f",
    "х": "h",
    "һ": "h",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "sh",
    "ъ": "",
    "ы": "y",
    "і": "i",
    "ь": "",
    "э": "e",
    "ю": "iu",
    "я": "ia",
}
# The 2021 Latin alphabet's letters beyond ASCII -> the same spelling.
_LATIN = {
    "ä": "a",
    "ğ": "g",
    "ñ": "n",
    "ö": "o",
    "ş": "sh",
    "ū": "u",
    "ü": "u",
    "ı": "y",
    "i̇": "i",
    "ç": "ch",
    "é": "e",
}
# Family and patronymic suffixes, in the folded Latin spelling (see _folded), so
# that one list serves every script: -ов/-ova, -ұлы/-uly/-ūly, -қызы/-qızı...
_SUFFIXES = ("ovna", "evna", "ovich", "evich", "ova", "eva", "ina", "ov", "ev", "in", "uli", "kizi")
# Sound-alike consonants merged for the skeleton.
_MERGE = str.maketrans({"q": "k", "g": "k", "z": "s", "v": "b", "p": "b", "d": "t", "h": "k", "c": "k"})


_TO_LATIN = str.maketrans({k: v for k, v in {**_LATIN, **_CYRILLIC}.items() if len(k) == 1})


def _without_marks(ch: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))


def to_latin(value: str) -> str:
    value = unicodedata.normalize("NFC", value or "").casefold()
    latin = value.translate(_TO_LATIN)  # the tables give plain ASCII
    if not latin.isascii():  # letters of other alphabets: without their marks
        latin = "".join(ch if ch.isascii() else _without_marks(ch) for ch in latin)
    # "zh" first: the Russian-style "Dzhanbulatov" must end as "janbulatov"
    # like "Джанбулатов" (д + ж -> "dj" -> "j"), not as "djanbulatov".
    return latin.replace("zh", "j").replace("dj", "j")


# Letters that one name is spelled with interchangeably: Қ is К in the Russian
# spelling (Қайрат / Кайрат); Й is "y" in the 2021 Latin alphabet and "i" in
# ours (Qayrat / Қайрат), Ы is "ı"/"y"/"i" (Ыбырай / Ibıray / Ibyrai).
_FOLD = str.maketrans({"q": "k", "y": "i"})


def _folded(value: str) -> str:
    """to_latin, with interchangeable letters made one and doubled letters single
    (Ілияс -> "iliias" -> "ilias", the same as Iliyas and Ilias)."""
    return re.sub(r"([a-z])\1+", r"\1", to_latin(value).translate(_FOLD))


def search_key(*parts: str) -> str:
    """Every part in one Latin spelling, space-separated (for LIKE searches)."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", _folded(p)).strip() for p in parts if p).strip()


def _strip_suffix(latin: str) -> str:
    for suffix in _SUFFIXES:
        if latin.endswith(suffix) and len(latin) - len(suffix) >= 3:
            return latin[: -len(suffix)]
    return latin


def word_skeleton(word: str) -> str:
    latin = _strip_suffix(re.sub(r"[^a-z]", "", _folded(word)))
    if not latin:
        return ""
    consonants = re.sub(r"[aeiouy]", "", latin[1:])
    skeleton = (latin[0] + consonants).translate(_MERGE)
    return re.sub(r"(.)\1+", r"\1", skeleton).upper()


def skeleton(surname: str, given_name: str) -> str:
    """Surname and given name skeletons, in a fixed order so that a swapped
    order (given name entered as surname) still matches."""
    return " ".join(sorted(filter(None, (word_skeleton(surname), word_skeleton(given_name)))))
