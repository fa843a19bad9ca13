//! omk-goal (being written).
