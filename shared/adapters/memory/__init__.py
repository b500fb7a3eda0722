"""In-memory stores: the ports' contracts (versions, all-or-nothing changes, idempotency records) kept in
dictionaries under one lock, for tests and the domain's own checks. Records are kept as their JSON form and
read back through validation, as the DynamoDB stores do, so a test never shares an object with the store."""
