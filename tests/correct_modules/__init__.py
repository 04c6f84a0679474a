"""Correct ERP modules of different shapes, each honouring every promise of the policy.

The privacy suite must pass each of them clean (issue 14, "No false alarms"):
a failure against one of these is a false alarm of the suite, not a bug to
accept. ``workshop`` is a repair workshop on plain ``sqlite3`` with a full-text
index, click-tracked mail, a deletion receipt, a mandatory birth date and a
business date of its own; ``atelier`` is a made-to-order atelier on SQLAlchemy
Core with per-client documents on disk, which keeps nothing of a deleted
client, not even a hashed address. The jewelry example is the third.
"""
