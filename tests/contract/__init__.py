"""Contract tests: behaviour every EventStore backend must share, run against each of them."""
