"""Reminders and mail: what is due and when, the reminder ledger, the e-mail outbox and its texts, deliveries, digests."""
