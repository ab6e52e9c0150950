"""From an abandoned cart or a hot lead to an inbox: the sweep, offer decisions, codes on the store,
delivery, the mailer, the merchant's outbound webhook, engagement tracking, consent write-back, results.

Decisions are the pure `campaigns` package's; this package loads, calls it, writes and queues.
May import: shops, leads, infra, db (never events). Journeys' shell and alerts will live here.
"""
