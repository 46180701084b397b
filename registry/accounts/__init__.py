"""Accounts: users, passwords, sessions, API tokens, login and its throttling; who is asking on every request."""
