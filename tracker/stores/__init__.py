"""SQL adapters for the tracker's own bookkeeping tables (beside the event store in events/)."""
