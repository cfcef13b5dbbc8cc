"""Names and free text for X12 elements: the payer must be able to match them. Pure, stdlib only.

A payer matches the member by name (AAA 73/75 when it cannot), so a letter must never vanish:
"María" becomes "MARIA" in the basic character set, never "MAR A". Two ways, per connector:

- ``basic`` (default): the X12 basic character set (upper-case letters, digits, space and
  ``! " & ' ( ) * + , - . / : ; ? =``), with letters transliterated (accents dropped, ligatures
  spelled out: Æ -> AE, ß -> SS, Ø -> O, Ł -> L).
- ``extended``: for partners that accept the extended character set (X12.6): letters are kept as
  they are, upper-cased ("MARÍA").

Characters that are delimiters in the interchange are never written (there is no escape in X12):
they become a space, like any other punctuation the set lacks. A letter that has no Latin
spelling (another script) cannot be sent in the basic set: ``NotRepresentable`` says so instead of
deleting it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

CharacterSet = Literal["basic", "extended"]

# Letters NFKD does not decompose into a base letter and a mark.
_SPELLED = {
    "Æ": "AE", "Œ": "OE", "ß": "SS", "ẞ": "SS", "Ø": "O", "Ł": "L", "Đ": "D", "Ð": "D", "Þ": "TH",
    "Ħ": "H", "Ŧ": "T", "Ŋ": "NG", "Ƒ": "F", "Ɨ": "I", "\u0131": "I", "ĸ": "K", "Ŀ": "L",
    "ŉ": "N", "Ə": "E", "Ɛ": "E", "Ɔ": "O",
    # Typographic apostrophes and dashes, as pasted from documents.
    "\u2018": "'", "\u2019": "'", "\u02bc": "'", "`": "'", "\u00b4": "'",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
}
# Of the basic set's specials, the ones a name or an organisation name plausibly carries. The rest
# (* : ^ ~ and friends) are common delimiters and become spaces.
_KEEP = re.compile(r"[^A-Z0-9 '.,&/-]")


class NotRepresentable(ValueError):
    """The text has letters that the basic character set cannot spell (no PHI in the message)."""


def transliterate(value: str) -> str:
    """Upper case Latin letters without diacritics; other characters unchanged (checked by the caller)."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFKD", value.upper()):
        if unicodedata.combining(ch):
            continue
        out.append(_SPELLED.get(ch, ch))
    return "".join(out)


def x12_text(value: str, max_length: int, charset: CharacterSet = "basic", *,
             forbidden: frozenset[str] = frozenset()) -> str:
    """The value as an X12 element: upper case, the connector's character set, the element's length.

    ``forbidden`` are the interchange's delimiters (always removed). Raises NotRepresentable when a
    letter would be lost; an empty result is "UNKNOWN" (NM1 names are required).
    """
    if charset == "extended":
        text = "".join(" " if (ch in forbidden or not (ch.isalnum() or ch in " '.,&/-")) else ch
                       for ch in unicodedata.normalize("NFC", value.upper()))
    else:
        spelled = transliterate(value)
        lost = [ch for ch in spelled if ch.isalpha() and not ("A" <= ch <= "Z")]
        if lost:
            raise NotRepresentable("the name has letters the X12 basic character set cannot spell")
        text = _KEEP.sub(" ", spelled)
        text = "".join(" " if ch in forbidden else ch for ch in text)
    text = " ".join(text.split())
    return text[:max_length].rstrip() or "UNKNOWN"
