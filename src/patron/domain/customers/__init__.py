"""Customers as the customers API reads, changes, deletes and bulk-updates them."""
