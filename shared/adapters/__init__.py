"""Adapters at the edge: the only place that imports boto3 or pynamodb."""
