"""Kazakhstan's individual identification number (ЖСН / ИИН).

12 digits: YYMMDD of birth, a century-and-sex digit (1/2: 1800s, 3/4: 1900s,
5/6: 2000s; odd for men), four serial digits and a check digit.  The check
digit is the weighted sum of the first eleven digits mod 11 with weights
1..11; when that is 10, weights 3..11, 1, 2; when that is 10 again, the
number is invalid.
"""

from __future__ import annotations

from datetime import date

_WEIGHTS_1 = tuple(range(1, 12))
_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_CENTURIES = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}


class IINError(ValueError):
    """``code`` says what is wrong: length, digits, checksum, century, date."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


def check_digit(first_eleven: str) -> int | None:
    digits = [int(ch) for ch in first_eleven]
    value = sum(d * w for d, w in zip(digits, _WEIGHTS_1)) % 11
    if value == 10:
        value = sum(d * w for d, w in zip(digits, _WEIGHTS_2)) % 11
        if value == 10:
            return None
    return value


def birth_date_of(iin: str) -> date:
    century = _CENTURIES.get(iin[6])
    if century is None:
        raise IINError("century")
    try:
        return date(century + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        raise IINError("date") from None


def parse(value: str) -> str:
    """The IIN with spaces removed, or :class:`IINError`."""
    iin = "".join(str(value).split())
    if len(iin) != 12:
        raise IINError("length")
    if not iin.isascii() or not iin.isdigit():
        raise IINError("digits")
    expected = check_digit(iin[:11])
    if expected is None or expected != int(iin[11]):
        raise IINError("checksum")
    birth_date_of(iin)
    return iin


def make(birth: date, serial: int, female: bool = False) -> str | None:
    """A valid IIN for tests and demo data (None when the serial has no check digit)."""
    century_digit = {1800: 1, 1900: 3, 2000: 5}[birth.year // 100 * 100] + (1 if female else 0)
    head = f"{birth:%y%m%d}{century_digit}{serial:04d}"
    digit = check_digit(head)
    return None if digit is None else head + str(digit)
