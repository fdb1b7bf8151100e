"""Every message catalogue is complete: Chinese is the interface's first language, so an untranslated or
fuzzy entry (English on a Chinese screen) fails here, and so does a broken placeholder."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = sorted(
    [*ROOT.glob("locale/*/LC_MESSAGES/django.po"), *ROOT.glob("civicgrid/*/locale/*/LC_MESSAGES/django.po")]
)

pytestmark = pytest.mark.skipif(shutil.which("msgattrib") is None, reason="gettext tools are not installed")


def _entries(po: Path, flag: str) -> list[str]:
    out = subprocess.run(
        ["msgattrib", flag, "--no-obsolete", "--no-wrap", str(po)], capture_output=True, text=True, check=True
    ).stdout
    # The header (msgid "") is always there; every other msgid is a problem.
    return [line for line in out.splitlines() if line.startswith("msgid ") and line != 'msgid ""']


def test_there_are_catalogues() -> None:
    assert any(p.parts[-3] == "zh_Hans" for p in CATALOGUES), CATALOGUES


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_catalogue_is_complete(po: Path) -> None:
    assert _entries(po, "--untranslated") == [], f"untranslated in {po}"
    assert _entries(po, "--only-fuzzy") == [], f"fuzzy in {po}"


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_placeholders_match(po: Path) -> None:
    result = subprocess.run(
        ["msgfmt", "--check-format", "--check-header", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_a_message_means_one_thing_everywhere() -> None:
    """Django looks a message up in the project catalogue, then in each app's in INSTALLED_APPS order, and
    the first translation wins everywhere. Two catalogues translating the same message (and context)
    differently would make one app's screens show the other's word; give such messages a context."""
    seen: dict[tuple[str, str], dict[str, list[str]]] = {}
    for po in CATALOGUES:
        out = subprocess.run(
            ["msgcat", "--no-wrap", "--sort-output", "--use-first", str(po)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for context, msgid, msgstr in _pairs(out):
            seen.setdefault((context, msgid), {}).setdefault(msgstr, []).append(str(po.relative_to(ROOT)))
    clashes = {key: found for key, found in seen.items() if len(found) > 1}
    assert not clashes, "\n".join(f"{key}: {found}" for key, found in clashes.items())


def _pairs(text: str) -> list[tuple[str, str, str]]:
    """(msgctxt, msgid, msgstr) of each entry of a catalogue printed one line per string (--no-wrap)."""
    result = []
    context = msgid = ""
    for line in text.splitlines():
        if line.startswith("msgctxt "):
            context = line[8:]
        elif line.startswith("msgid "):
            msgid = line[6:]
        elif line.startswith(("msgstr ", "msgstr[0] ")) and msgid != '""':
            result.append((context, msgid, line.split(" ", 1)[1]))
            context = ""
    return result
