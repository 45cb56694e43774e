"""Talon.One's Integration API, one router per group of operations.

Requests authenticate with ``Authorization: ApiKey-v1 <key>``: an
application's key, which reaches that application and its workspace's
customers only.
"""
