"""Pure metric functions over lists of strings and numbers (no I/O, no printing)."""
