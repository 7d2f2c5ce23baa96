"""Short codes people read, type and scan: certificate verification codes and
ticket codes.  80 random bits as 16 characters of upper-case base32 (A-Z,
2-7): a small QR code, easy to read out, and nothing to guess."""

from __future__ import annotations

import base64
import secrets

CODE_BYTES = 10  # 80 random bits: 16 characters of base32
ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
# Typed by hand from a printed code: characters base32 does not use, read as
# the ones they look like; the grouping dashes and spaces dropped.
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B", "-": None, " ": None})


def new_code() -> str:
    return base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode("ascii")


def normalise(code: object) -> str | None:
    """The code as stored, from what was typed or scanned; None if it cannot be one."""
    if not isinstance(code, str) or len(code) > 40:
        return None
    code = code.strip().upper().translate(_LOOKALIKES)
    if len(code) != 16 or not ALPHABET.issuperset(code):
        return None
    return code


def grouped(code: str) -> str:
    """ABCD-EFGH-IJKL-MNOP: easier to read out and type."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
