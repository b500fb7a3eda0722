"""The double-entry ledger: every fen that moves is a balanced posting, written exactly once.

``model`` is pure (accounts, postings, the soundness check); ``shared.adapters.dynamo.ledger`` stores it.
"""
