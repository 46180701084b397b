"""The run ledger: each scheduled job claims its run date once; health and the dashboard read the last success."""
