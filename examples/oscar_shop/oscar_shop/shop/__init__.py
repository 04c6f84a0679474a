"""The shop's own app: sign-up with an age gate, deletion, marketing preferences."""
