"""The admin's French catalogue is complete and its committed .mo is what the .po compiles to.

Every msgid of admin_ui (Python and Jinja, as `make translations` extracts them with admin_ui/babel.cfg) needs
a non-empty, non-fuzzy French translation. When this fails: run `make translations`, then translate the
listed msgids in admin_ui/translations/fr/LC_MESSAGES/messages.po and run `make translations` again.
"""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ADMIN = Path(__file__).resolve().parents[3] / "admin_ui"
PO = ADMIN / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
# Babel's default keywords plus Flask-Babel's lazy ones, as `make translations` (BABEL_KEYWORDS) extracts.
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "lazy_ngettext": (1, 2)}


def extracted() -> dict[str, set[str]]:
    """Every msgid of the admin (a plural's singular form names it) and the files it appears in."""
    with (ADMIN / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, set[str]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
        ADMIN, method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, set()).add(filename)
    return found


def french() -> Catalog:
    with PO.open("rb") as po:
        return read_po(po, locale="fr")


def _translated(catalog: Catalog, msgid: str) -> bool:
    message = catalog.get(msgid)
    if message is None or message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings)


def test_the_extraction_finds_the_admin_strings() -> None:
    found = extracted()
    assert len(found) > 200
    assert "templates/admin_ui/base.html" in found["Sign out"]  # Jinja
    assert "blueprint.py" in found["Overview"]  # a lazy_gettext at import time
    assert "%(num)d activity" in found  # an ngettext, named by its singular


def test_every_admin_string_has_a_french_translation() -> None:
    catalog = french()
    missing = sorted(msgid for msgid in extracted() if not _translated(catalog, msgid))
    listing = "\n".join(f"  {msgid!r}  ({', '.join(sorted(extracted()[msgid]))})" for msgid in missing)
    assert not missing, (
        f"{len(missing)} admin string(s) without a French translation; run `make translations`, translate "
        f"them in {PO.relative_to(ADMIN.parent)}, then run `make translations` again:\n{listing}"
    )


def test_french_placeholders_match_the_english_ones() -> None:
    """Babel's checks: the same %(name)s placeholders in each translation as in its msgid."""
    problems = [(message.id, [str(error) for error in errors]) for message, errors in french().check()]
    assert problems == []


def test_the_committed_mo_is_the_compiled_po() -> None:
    catalog = french()
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    with MO.open("rb") as mo:
        committed = read_mo(mo)
    expected = read_mo(compiled)

    def entries(found: Catalog) -> dict[object, object]:
        # read_mo gives a plural's ids and strings as lists: tuples, to compare and hash them
        return {
            tuple(m.id) if isinstance(m.id, list) else m.id: tuple(m.string)
            if isinstance(m.string, list)
            else m.string
            for m in found
            if m.id
        }

    assert entries(committed) == entries(expected), "admin_ui's messages.mo is stale: run `make translations`"
    assert committed.plural_forms == expected.plural_forms
