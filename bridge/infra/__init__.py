"""What every feature stands on: settings, the typed context and its ports, HTTP helpers, the queue
transport and the job names, encryption, rate limits, the network guard, logs and metrics.

May import: db. Knows no feature.
"""
