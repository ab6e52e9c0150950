"""People and what they did: leads, carts and orders, scores and their rescoring, the versioned rules (the
one place that reads a shop's live rules), erasure and retention. Segments and products will live here.

May import: infra, db.
"""
