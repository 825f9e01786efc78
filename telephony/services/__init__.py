"""Keeping the local mirror of VOS in step: accounts, balances, call records, jobs."""
