"""Masking of personal data for display (ORM-free). Unmasked values are shown only to permitted roles."""

from __future__ import annotations


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
