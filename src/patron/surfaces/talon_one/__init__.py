"""Talon.One's APIs: the Integration API (shops' sessions, profiles, events) and the
Management API subset that sets up what it evaluates (campaigns, rulesets, coupons,
loyalty). Two apps, told apart by how the client authenticates (see ``app.py``)."""
