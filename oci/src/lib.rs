//! `wayfinder-oci`: talks to OCI registries (DESIGN §5): credentials from the Docker config
//! and the environment, blob and manifest push and pull with verification, retries.
//!
//! It knows nothing of Helm, voyages or the build: callers hand it bytes and media types.
