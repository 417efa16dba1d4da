"""Tests of the State-name aliases, the CSV/JSONL importer and the bundled CCM dataset."""
