"""An inbound event from receipt to applied rows: the webhook and storefront receivers, the group-commit
writer, the relay of lost jobs, the pipeline that normalizes and applies facts, and the reconciliations
that re-read what the stores' webhooks missed.

May import: shops, leads, infra, db (never outreach: a tier change reaches outreach as a queued job).
"""
