"""The platform every feature stands on: the database and its sessions, bulk writing, the clock, the mailer, input bounds, per-app resources."""
