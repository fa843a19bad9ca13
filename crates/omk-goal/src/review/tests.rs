//! Tests of the review wall.
