//! Synthetic records: value pools, sizes, keys, headers and the pacer.
