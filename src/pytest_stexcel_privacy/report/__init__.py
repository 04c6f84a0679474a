"""Compliance reports: the run's findings as JSON, HTML and Markdown."""
