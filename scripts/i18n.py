"""Refresh the gettext catalogs and add translations, safely while others do the same.

    .venv/bin/python scripts/i18n.py                      # makemessages + compilemessages
    .venv/bin/python scripts/i18n.py translations.json    # ...and fill in msgstrs first
    .venv/bin/python scripts/i18n.py --missing pl         # list msgids without a Polish translation

translations.json maps an English msgid to its Polish and Ukrainian text; plurals give a list of forms
(Polish and Ukrainian have three), and a msgctxt is written as "context\\u0004msgid":
    {"Reading saved.": {"pl": "Odczyt zapisany.", "uk": "Показання збережено."},
     "%(count)s invoice": {"pl": ["%(count)s faktura", "%(count)s faktury", "%(count)s faktur"], "uk": [...]}}

A file lock serialises concurrent runs, so two people adding translations never overwrite each other.
"""

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("pl", "en", "uk")
LOCK = Path("/tmp/ibok-i18n.lock")


def manage(*args: str) -> None:
    env = {**os.environ, "DJANGO_DEBUG": "1"}
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def catalog(language: str) -> polib.POFile:
    return polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.po"))


def apply(translations: dict) -> int:
    changed = 0
    for language in ("pl", "uk"):
        po = catalog(language)
        for key, texts in translations.items():
            if language not in texts:
                continue
            context, _, msgid = key.rpartition("\u0004")
            entry = po.find(msgid, msgctxt=context or False)
            if entry is None:
                print(f"not in the sources (run makemessages first?): {key!r}", file=sys.stderr)
                continue
            text = texts[language]
            if entry.msgid_plural:
                forms = text if isinstance(text, list) else [text] * 3
                entry.msgstr_plural = dict(enumerate(forms))
            else:
                entry.msgstr = text
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            changed += 1
        po.save()
    return changed


def main() -> None:
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if len(sys.argv) == 3 and sys.argv[1] == "--missing":
            for entry in catalog(sys.argv[2]).untranslated_entries() + catalog(sys.argv[2]).fuzzy_entries():
                print(json.dumps(entry.msgid, ensure_ascii=False))
            return
        manage(
            "makemessages",
            *(f"-l{lang}" for lang in LANGUAGES),
            "--ignore=.venv/*",
            "--ignore=var/*",
            "--ignore=.tools/*",
            "--ignore=bench/*",
            "--ignore=tests/*",
            "--no-obsolete",
        )
        if len(sys.argv) == 2:
            translations = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
            print(f"{apply(translations)} translations applied")
        manage("compilemessages", "--ignore=.venv/*", "--ignore=.tools/*")


if __name__ == "__main__":
    main()
