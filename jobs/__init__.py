"""The scheduler process (`flask --app app jobs run`): schedule, job bodies, runner; no side effects at import."""
