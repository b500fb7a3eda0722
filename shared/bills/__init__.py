"""Bills: what a session costs, what was discounted, paid, refunded, adjusted or written off."""
