//! omk-proof (being written).
