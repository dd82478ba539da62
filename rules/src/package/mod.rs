//! Release artifacts (DESIGN §5): reproducible chart archives and the voyage OCI artifact.
