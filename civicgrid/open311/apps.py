from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Open311Config(AppConfig):
    name = "civicgrid.open311"
    label = "open311"
    verbose_name = _("Open311 GeoReport v2")

    def ready(self) -> None:
        from civicgrid.core.worker import WorkerContext, register_job
        from civicgrid.open311.actions import do_prune_rate_windows

        def prune(context: WorkerContext) -> int:
            # One indexed DELETE of the per-minute counters of keys, an hour after their minute ended.
            return do_prune_rate_windows(actor=None)

        register_job("open311.prune", prune)
