"""Talang's functions, one module per family; :mod:`..library` puts them in one table."""
