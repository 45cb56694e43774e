"""The queries of event segments and segment groups."""
