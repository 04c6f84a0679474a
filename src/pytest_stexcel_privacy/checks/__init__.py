"""The checks, one module per clause family, assembled into ``PrivacySuite``."""
