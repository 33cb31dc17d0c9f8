//! Tokens of the kv SQL fast path (being written).
