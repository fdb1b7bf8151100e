"""Masking of personal data for display (ORM-free). Unmasked values are shown only to permitted roles."""

from __future__ import annotations

import re


def mask_phone(phone: str) -> str:
    """138****5678 for mobiles; keep the area code and the last four digits of landlines."""
    digits = phone.strip()
    if not digits:
        return ""
    if len(digits) <= 4:
        return "*" * len(digits)
    if len(digits) == 11 and digits.isdigit():
        return f"{digits[:3]}****{digits[-4:]}"
    keep_head = min(4, len(digits) - 4)
    return digits[:keep_head] + "*" * (len(digits) - keep_head - 4) + digits[-4:]


def mask_id_number(id_number: str) -> str:
    """430103********1234: the address code and the last four characters stay readable."""
    value = id_number.strip()
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


# A mobile number (11 digits from 13… to 19…) or an 18-character ID number standing alone in free text, not
# part of a longer run of digits (a case number, an amount, a date).
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
_ID_IN_TEXT = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9Xx])")
_DIGIT = re.compile(r"[0-9]")


def mask_in_text(text: str) -> str:
    """Free text with the mobile and ID numbers residents wrote into it masked, for publishing it (Open311,
    open data): “请联系13812345678” → “请联系138****5678”."""
    # A scan in C, not a Python loop per character: the case export masks every text of 100,000 cases.
    if not _DIGIT.search(text):
        return text
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group(0)), text)
    return _MOBILE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)
