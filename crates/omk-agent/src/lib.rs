//! omk-agent (being written).
