"""Tenancy: workspaces, their API keys (stored hashed) and Infinity installation numbers."""
