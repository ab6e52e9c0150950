"""WSGI entry point: `gunicorn wsgi:app`."""

from bridge.app import create_app
from bridge.infra.settings import from_env

app = create_app(from_env())
