//! wayfinder-cache
