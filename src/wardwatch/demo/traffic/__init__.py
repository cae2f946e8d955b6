"""Payload builders, one module per protocol family; each returns bytes and does no I/O."""
