from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    name = "civicgrid.stats"
    label = "stats"
    verbose_name = _("Statistics")

    def ready(self) -> None:
        from civicgrid.core.worker import WorkerContext, register_job
        from civicgrid.stats.refresh import do_refresh

        def refresh(context: WorkerContext) -> int:
            # Fold the changed cases into the figures, a batch at a time (a first run builds everything).
            return do_refresh(actor=None, limit=context.batch * 5)

        register_job("stats.refresh", refresh)
