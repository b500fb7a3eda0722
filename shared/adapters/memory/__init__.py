"""In-memory adapters of the domain's ports: for unit tests and the benchmark's pure timings."""
