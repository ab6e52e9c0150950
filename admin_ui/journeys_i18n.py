"""A stand-in `_` for the journeys pages until Flask-Babel is initialised in the app (then it defers to it).

Remove this module once Flask-Babel lands: import `gettext as _` from flask_babel where this `_` is
imported, and drop `install` from admin_ui/journeys.py (Flask-Babel puts `_` in Jinja itself).
"""

from __future__ import annotations

from typing import Any

import flask_babel
from flask import current_app
from flask.sansio.app import App


def _(text: str, **variables: Any) -> str:
    """flask_babel.gettext once Babel is set up on the app; until then the English text, formatted alike."""
    if "babel" in current_app.extensions:
        return str(flask_babel.gettext(text, **variables))
    return text % variables if variables else text


def install(app: App) -> None:
    """Give the templates `_` unless Flask-Babel already did."""
    app.jinja_env.globals.setdefault("_", _)
