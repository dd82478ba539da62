//! wayfinder-rules
