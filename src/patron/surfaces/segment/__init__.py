"""The tracking surface: Segment's HTTP Tracking API, wire-compatible."""
