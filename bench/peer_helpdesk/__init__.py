"""The peer of bench/intake.py: a minimal Django project serving django-helpdesk's REST API.

It runs in its own venv (bench/.peer-venv, created by bench/intake.py), never in CivicGrid's; nothing here
is imported by CivicGrid. Configuration from the environment: PEER_DATABASE_URL (PostgreSQL),
PEER_SECRET_KEY.
"""
