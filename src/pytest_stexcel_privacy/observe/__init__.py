"""What the suite watches while a module runs: mail, provider requests, connections, regions."""
