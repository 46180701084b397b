"""Personal information in what people see: masked by default, shown in full only when a role that may asks (audited)."""
