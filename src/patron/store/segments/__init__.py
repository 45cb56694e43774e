"""The queries of both kinds of segment, and their versions."""
