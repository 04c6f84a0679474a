"""Synthetic people: canary-marked persons, the forms their values take, ages and strategies."""
