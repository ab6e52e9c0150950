"""A connected store: the shop registry and its keys, offline tokens, store API clients, installs (Shopify
OAuth and the setup job after it, WooCommerce key exchange), embedded-admin sessions, key rotation and admin
users.

May import: leads, infra, db.
"""
