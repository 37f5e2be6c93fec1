"""The gateway's money: virtual keys, the journal, the spend log and the shared budget ledger with its leases.

:class:`~satisfice.gateway.money.books.Books` starts and stops them together for one instance.
"""
