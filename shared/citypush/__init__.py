"""Pushes to the city data bureau's city operation platform (S5): an outbox, signed, ordered per lot."""
