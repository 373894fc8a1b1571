"""The French catalogue is complete for the code as it is now.

When a test here fails after you added or changed a string: run ``make messages`` (it runs
``makemessages -l fr`` and ``compilemessages``), translate the new entries of
``locale/fr/LC_MESSAGES/django.po`` and remove their ``fuzzy`` flag.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

BASE_DIR = Path(settings.BASE_DIR)
PO_PATH = BASE_DIR / "locale" / "fr" / "LC_MESSAGES" / "django.po"
# The same folders the Makefile's ``messages`` target leaves out, plus what is not source.
NOT_SOURCE = (
    ".venv",
    "node_modules",
    "var",
    ".git",
    "locale",
    "staticfiles",
    "test-results",
    "__pycache__",
    "*.pyc",
    "*.egg-info",
    ".*_cache",
    ".hypothesis",
)
# "%%" is matched (then dropped) so that "50 %% done" does not read as a "% d" placeholder;
# no space flag either: "(% of the target)" is prose, not "% o".
PLACEHOLDER = re.compile(r"%%|%(?:\([^)]+\))?[-#0+]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]|\{[\w.]*\}")
PYTHON_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|N\{|x[0-9a-fA-F]{2})")


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple:
        return (self.msgctxt, self.msgid, self.msgid_plural)

    @property
    def label(self) -> str:
        where = f" ({', '.join(self.references[:3])})" if self.references else ""
        context = f"[{self.msgctxt}] " if self.msgctxt else ""
        return f"{context}{self.msgid!r}{where}"


def read_po(path: Path) -> list[Entry]:
    """The live entries of a .po file (header and obsolete ``#~`` entries left out)."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] = ("msgid", 0)
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            entry = None
            continue
        if line.startswith("#~"):
            continue
        if entry is None:
            entry = Entry()
            entries.append(entry)
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#:"):
            entry.references.extend(line[2:].split())
        elif line.startswith("#"):
            continue
        else:
            if line.startswith('"'):  # continuation of the previous keyword
                text = ast.literal_eval(line)
            else:
                keyword, _space, rest = line.partition(" ")
                text = ast.literal_eval(rest)
                match = re.fullmatch(r"msgstr(?:\[(\d+)\])?", keyword)
                if match:
                    target = ("msgstr", int(match.group(1) or 0))
                    entry.msgstr[target[1]] = ""
                else:
                    target = (keyword, 0)
                    setattr(entry, keyword, "")
            if target[0] == "msgstr":
                entry.msgstr[target[1]] += text
            else:
                setattr(entry, target[0], getattr(entry, target[0]) + text)
    return [e for e in entries if e.msgid or e.msgctxt]


def placeholders(text: str) -> list[str]:
    return sorted(found for found in PLACEHOLDER.findall(text) if found != "%%")


def listing(entries) -> str:
    return "\n".join(f"  - {entry.label}" for entry in entries)


@pytest.fixture(scope="module")
def catalogue() -> list[Entry]:
    assert PO_PATH.exists(), f"{PO_PATH} is missing: run `make messages`."
    return read_po(PO_PATH)


@pytest.fixture(scope="module")
def strings_in_code(tmp_path_factory) -> list[Entry]:
    """What ``makemessages -l fr`` finds in a copy of the current source tree.

    A copy, so the real catalogue is never touched; the copy has no catalogue of its own, so
    every string of the code comes out, translated or not.
    """
    copy = tmp_path_factory.mktemp("i18n") / "src"
    shutil.copytree(BASE_DIR, copy, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    (copy / "locale").mkdir()
    env = {
        **os.environ,
        "ITSM_VAR_DIR": str(copy / "var"),
        "DEBUG": "1",
        "SECRET_KEY": "i18n-catalogue-check",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-obsolete", "-v", "0"]
        + [f"--ignore={name}" for name in (".venv", "node_modules", "var")],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"makemessages failed:\n{result.stdout}\n{result.stderr}"
    return read_po(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po")


def test_the_catalogue_has_every_string_of_the_code(catalogue, strings_in_code):
    known = {entry.key for entry in catalogue}
    missing = [entry for entry in strings_in_code if entry.key not in known]
    assert not missing, (
        f"{len(missing)} string(s) of the code are not in {PO_PATH.relative_to(BASE_DIR)}; "
        f"run `make messages` and translate them:\n{listing(missing)}"
    )


def test_every_entry_is_translated(catalogue):
    untranslated = [
        entry
        for entry in catalogue
        if not entry.msgstr or not all(text.strip() for text in entry.msgstr.values())
    ]
    assert not untranslated, f"{len(untranslated)} untranslated:\n{listing(untranslated)}"


def test_no_entry_is_fuzzy(catalogue):
    fuzzy = [entry for entry in catalogue if "fuzzy" in entry.flags]
    assert not fuzzy, (
        f"{len(fuzzy)} fuzzy entries (check the translation, then drop the flag):\n{listing(fuzzy)}"
    )


def test_translations_keep_the_placeholders(catalogue):
    broken = []
    for entry in catalogue:
        english = placeholders(entry.msgid_plural or entry.msgid)
        forms = [placeholders(text) for _form, text in sorted(entry.msgstr.items())]
        if entry.msgid_plural:
            # The singular form may leave the number out ("un fichier"); the others may not.
            ok = forms[-1] == english and all(set(form) <= set(english) for form in forms)
        else:
            ok = forms == [english]
        if not ok:
            broken.append(entry)
    assert not broken, f"placeholders differ from the English:\n{listing(broken)}"


def test_msgids_carry_no_python_escape_sequences(catalogue):
    # xgettext copies "\u201c" from Python source as six characters, so the string the code
    # asks for at runtime (with the real character) is never found: write the character.
    escaped = [entry for entry in catalogue if PYTHON_ESCAPE.search(entry.msgid)]
    assert not escaped, (
        "write these characters literally in the source, not as escape sequences:\n"
        f"{listing(escaped)}"
    )


def test_gettext_accepts_the_catalogue(tmp_path):
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "GNU gettext (msgfmt) is needed to build the catalogue: apt install gettext"
    result = subprocess.run(
        [msgfmt, "--check", "-o", str(tmp_path / "django.mo"), str(PO_PATH)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_french_is_what_django_serves(catalogue):
    """The compiled catalogue Django loads matches the .po (else: ``make messages``)."""
    stale = []
    with translation.override("fr"):
        for entry in catalogue:
            if entry.msgid_plural:
                served = translation.ngettext(entry.msgid, entry.msgid_plural, 1)
                if entry.msgctxt:
                    served = translation.npgettext(
                        entry.msgctxt, entry.msgid, entry.msgid_plural, 1
                    )
            elif entry.msgctxt:
                served = translation.pgettext(entry.msgctxt, entry.msgid)
            else:
                served = translation.gettext(entry.msgid)
            if served != entry.msgstr.get(0):
                stale.append(entry)
        assert translation.gettext("Sign in") == "Se connecter"
        assert translation.gettext("Sign out") == "Se déconnecter"
    assert not stale, (
        "locale/fr/LC_MESSAGES/django.mo is older than the .po "
        f"(run `make messages`):\n{listing(stale[:20])}"
    )
