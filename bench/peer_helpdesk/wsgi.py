"""WSGI entry of the peer project (gunicorn peer_helpdesk.wsgi)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_helpdesk.settings")
application = get_wsgi_application()
