"""The bundled Convention on Cluster Munitions dataset: JSON Lines event files (see README.md)."""
