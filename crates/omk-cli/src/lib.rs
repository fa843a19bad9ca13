//! omk-cli (being written).
