"""The JSON API (`/api/v1`) and the probes: thin views over events, outreach, shops and leads.

May import: events, outreach, shops, leads, infra, db. Imported by: the app only.
"""
