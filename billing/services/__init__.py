"""Money: the ledger, top-ups, transfers, reconciliation, pay-history mirrors, e-mails."""
