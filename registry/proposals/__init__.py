"""Proposals: a change that waits for a second person — account changes (三员分立) and four-eyes business actions."""
