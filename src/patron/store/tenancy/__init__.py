"""The queries of tenancy: workspaces, keys, installations."""
