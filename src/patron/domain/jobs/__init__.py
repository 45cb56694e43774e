"""Bulk jobs: accepted at once, run in chunks in the background, reported per row."""
