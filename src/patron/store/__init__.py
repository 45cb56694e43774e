"""The store: the only place SQL lives. SQLite by default, PostgreSQL when configured."""
