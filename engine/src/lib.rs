//! wayfinder-engine
