"""In-memory adapters: the same contracts as the DynamoDB/S3 ones, for tests and replay."""
