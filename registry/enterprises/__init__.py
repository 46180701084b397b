"""Enterprises: registering and updating them, their annual and change reports, the per-enterprise write lock, roster queries."""
