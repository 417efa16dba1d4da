"""Projections: pure folds of events into answers, as of a valid date and a knowledge time.

Nothing here reads the clock, touches storage or knows about front ends; every function takes
the events (or a `Ledger` folded from them) and the dates it needs.
"""
