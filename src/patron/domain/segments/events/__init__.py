"""Event segments and segment groups (Infinity Config API); events are stamped at ingest."""
