"""Both languages complete: every message of the Chinese catalogue is translated."""

from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "cluster" / "locale"


def test_chinese_catalogue_is_complete_and_compiled():
    po = polib.pofile(str(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    assert len(po) > 150
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    mo = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.mo"
    compiled = {(entry.msgctxt, entry.msgid): entry.msgstr for entry in polib.mofile(str(mo))}
    stale = [
        e.msgid
        for e in po.translated_entries()
        if not e.msgid_plural and compiled.get((e.msgctxt, e.msgid)) != e.msgstr
    ]
    assert stale == []
