"""An inbound event from receipt to applied rows: the webhook and storefront receivers, the group-commit
writer, the relay of lost jobs, the pipeline that normalizes and applies facts, and the reconciliations
that re-read what the stores' webhooks missed.

    ingest              webhook receivers (verify, store once, answer; the writer queues the id) and the relay
    collect             the storefront receiver (public, rate-limited, strict shape) and its adapter
    writer              group commit: concurrent deliveries share one INSERT, one COMMIT and one job
    pipeline            a stored event's stages: attempts counted, one event at a time, replay
    batch               a first-try batch applied in one transaction
    payloads            the facts of a stored event, by the adapter of its topic
    apply               the facts' dispatch table: one small handler per type of fact
    failures            a failed attempt: retried with backoff, or failed with a reason free of personal data
    reconcile_shopify   Shopify's recent checkouts and orders re-read and stored as events
    reconcile_woo       WooCommerce's recent orders and customers polled and stored as events
    woo_webhooks        WooCommerce webhooks on the store: registered, repaired, removed at uninstall

May import: shops, leads, infra, db (never outreach: a tier change reaches outreach as a queued job).
"""
