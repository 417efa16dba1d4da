"""Deployment files (deploy/): what can be checked without Docker or systemd running."""
