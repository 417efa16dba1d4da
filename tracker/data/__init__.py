"""Data files shipped with the tracker (bundled datasets), read through importlib.resources."""
