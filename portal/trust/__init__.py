"""Trust anchored outside the database: which public keys may receive report
keys (signed recipient statements, verified against the pinned anchor keys)."""
