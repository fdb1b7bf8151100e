"""Settings of the plain Django list beside Open311 in bench/open311.py: CivicGrid's, with one more URL."""

from civicgrid.settings import *  # noqa: F403

ROOT_URLCONF = "_open311_urls"
