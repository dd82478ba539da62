//! Differential tests against the Helm oracle (filled in with prepare).
