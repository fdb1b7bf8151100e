from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "civicgrid.core"
    label = "core"
    verbose_name = _("Platform")

    def ready(self) -> None:
        _widen_psycopg_statement_cache()


def _widen_psycopg_statement_cache() -> None:
    """psycopg remembers how it parsed a statement's placeholders only for statements of at most 4 KiB
    and 50 parameters. The case intake's single INSERT (the case, its clocks, its event and the resident's
    SMS: about 110 values, 6 KiB) is larger, and parsing it again on every intake costs more CPU than
    PostgreSQL spends running it. The cache is an LRU of 128 statements, so larger limits are harmless."""
    try:
        from psycopg import _queries
    except ImportError:  # SQLite-only installs
        return
    _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, 16384)
    _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, 256)
