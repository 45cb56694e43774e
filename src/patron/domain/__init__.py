"""The domain: Patron's model and rules. It knows nothing of HTTP or SQL."""
