"""Adapters at the edge: the only place (with ``shared/bootstrap.py``) that imports boto3 or pynamodb.

Each implements a port of ``shared/<domain>/ports.py``: ``dynamo/`` on DynamoDB, ``memory/`` in memory, both
held to the same contract by ``tests/contracts/``; ``records.py`` holds the versioned-record rules they share.
"""
