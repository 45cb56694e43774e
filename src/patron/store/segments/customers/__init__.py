"""The queries of customer segments: members, backfills, counts, the sweep."""
