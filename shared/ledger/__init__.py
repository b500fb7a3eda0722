"""The double-entry ledger: every fen that moves is a balanced posting, written exactly once.

``model`` is pure (accounts, postings, the soundness check); ``ports.Ledger`` is where it is stored
(``shared.adapters.dynamo.ledger``, ``shared.adapters.memory.ledger``).
"""
