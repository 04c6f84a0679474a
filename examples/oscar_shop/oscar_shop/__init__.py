"""A small shop built on django-oscar, with the privacy features Oscar leaves to its users."""
