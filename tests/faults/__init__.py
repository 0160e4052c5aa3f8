"""Helpers of the fault tests (tests/test_faults.py): a TCP proxy that can cut the database, real servers."""
