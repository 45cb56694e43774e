"""The Infinity Config API v2 surface (segments and segment groups)."""
