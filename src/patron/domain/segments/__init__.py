"""Segments, of two kinds: event segments classify events; customer segments hold customers."""
