"""Model fields for personal data."""

from __future__ import annotations

from typing import Any

from django.db import models

from civicgrid.core import crypto


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A text stored encrypted (Fernet). Not searchable: pair it with a digest column to find rows."""

    description = "Text encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))
