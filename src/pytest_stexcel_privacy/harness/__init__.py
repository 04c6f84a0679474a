"""What a check runs with: the adapter and its stores, and the runners that drive them."""
