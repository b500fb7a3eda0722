"""Device event ingest: authenticate, authorise, validate and apply protocol v1 events."""
