//! A copy of the omk binary for the end-to-end tests.
fn main() {}
