from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "civicgrid.portal"
    label = "portal"
    verbose_name = _("Resident portal")

    def ready(self) -> None:
        from civicgrid.core.worker import WorkerContext, register_job
        from civicgrid.portal.actions import do_prune_submission_log

        def prune(context: WorkerContext) -> int:
            return do_prune_submission_log(actor=None)

        register_job("portal.prune", prune)
