"""gunicorn settings for Relance: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Chosen by measurement on 2 cores (docs/production.md, `python -m bench.load --compare`): gthread workers keep
connections alive (Shopify and load balancers reuse them) and the group commit of webhook inserts shares one
round trip between the threads of a worker. Every value can be overridden from the environment.
"""

import os
import shutil

# Behind a proxy on the same host by default; platforms that set PORT route to it from outside.
_default_bind = f"0.0.0.0:{os.environ['PORT']}" if os.environ.get("PORT") else "127.0.0.1:8000"
bind = os.environ.get("GUNICORN_BIND", _default_bind)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "30"))
timeout = 30  # a webhook answers in milliseconds; anything near this is stuck
graceful_timeout = 30
max_requests = 20_000  # recycle workers now and then (memory), with jitter so they do not restart together
max_requests_jitter = 2_000
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None  # off by default: the app logs what matters
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def on_starting(server):
    """Start with an empty Prometheus multiprocess directory (stale files would add old counts)."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, exist_ok=True)


def post_fork(server, worker):
    """JSON logs with request ids and no personal data, before the app is loaded in the worker."""
    from bridge.infra.logs import configure_logging

    json_logs = os.environ.get("LOG_FORMAT", "json") == "json"
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"), json_logs=json_logs)


def child_exit(server, worker):
    """Let the metrics of a worker that exited be merged correctly."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
