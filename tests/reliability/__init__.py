"""Fault tests: crashes, concurrent writers, bad input, secrets, backup round trips."""
