"""From an abandoned cart or a hot lead to an inbox, one module per stage:

    sweep            the abandonment sweep: claim each shop's due window, queue its carts, mark them abandoned
    offers           offer decisions for abandoned carts and hot leads (decision_inputs: what they read)
    codes            the offer's code created on the store, then its delivery scheduled
    delivery         the final check and the send: the email at most once, the webhook job queued
    message          the offer's message rendered from the shop's template, and its recovery link
    code_cleanup     dead codes removed from the store (at once, or by the periodic clean-up)
    mailer, outbound SMTP, and the signed webhook to the merchant's own tool
    tracking, consent opens, clicks, unsubscribes and replies; the opt-out written back to Shopify
    results, sources the figures of what Relance brought back

Each job reads the shop's live campaign settings (`leads.rules.campaign_settings_for`) once and passes them
down. Decisions are the pure `campaigns` package's; this package loads, calls it, writes and queues.
May import: shops, leads, infra, db (never events). Journeys' shell and alerts will live here.
"""
