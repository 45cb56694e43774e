"""Tracking: Segment-style messages (identify, track, page, ...) and their durable ingest."""
