"""The city registry (备案): districts, operators, lots and devices (S1, S3, S4)."""
