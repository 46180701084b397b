"""The audit trail: chained events recorded in the writer's transaction, the bulk-DML guard, queries, export, verify."""
