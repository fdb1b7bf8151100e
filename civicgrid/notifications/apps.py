from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "civicgrid.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from civicgrid.core.worker import WorkerContext, register_job
        from civicgrid.notifications.backends import check_backend_settings
        from civicgrid.notifications.delivery import deliver_pending

        # A mistyped NOTIFY_SMS_BACKEND must stop start-up, not dead-letter every SMS hours later.
        check_backend_settings()

        def deliver(context: WorkerContext) -> int:
            # Not context.now: delivery reads the real clock as it goes, to notice a lease running out
            # during a slow batch and to stamp sent_at when the message actually left.
            return deliver_pending(worker_id=context.worker_id, batch=context.batch)

        register_job("notifications.deliver", deliver)
