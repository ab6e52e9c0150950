"""The baseline: a bare Flask app answering 200 on the webhook path, nothing else."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.post("/webhooks/shopify")
def webhook():  # type: ignore[no-untyped-def]
    """Answer like the real endpoint, doing nothing."""
    return jsonify(ok=True, duplicate=False)


@app.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return jsonify(ok=True)
