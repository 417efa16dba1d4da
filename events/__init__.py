"""Events: the immutable facts of the tracker, their schema and the store that keeps them."""
