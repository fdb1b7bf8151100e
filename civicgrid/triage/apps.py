from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TriageConfig(AppConfig):
    """Smart routing (智能分拨): category suggestion, duplicate detection and hot topics from request text."""

    name = "civicgrid.triage"
    label = "triage"
    verbose_name = _("Smart routing")

    def ready(self) -> None:
        from civicgrid.triage import jobs

        jobs.register()
