"""What a check found, as data: verdicts, evidence, acceptances and masking."""
