//! omk-gates (being written).
