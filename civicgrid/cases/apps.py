from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "civicgrid.cases"
    label = "cases"
    verbose_name = _("cases")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from civicgrid.cases.sweep import sweep_due_clocks
        from civicgrid.core.worker import register_job

        register_job("cases.sweep", sweep_due_clocks)
