"""Print and PDF (issue 18 point 7): an enterprise record, a 公示名单, a batch's results (认定名单)."""
