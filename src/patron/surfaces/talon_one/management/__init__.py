"""Talon.One's Management API (the subset that sets promotions up), one router per object.

Requests authenticate with ``Authorization: ManagementKey-v1 <key>`` or
``Authorization: Bearer <token>`` (from ``POST /v1/sessions``); a key reaches
its workspace's applications.
"""
