//! `wayfinder test` (DESIGN §8): validation as cached build actions.

use wayfinder_engine::Plan;

use crate::build::{BuildError, Session};

/// Adds the test actions of every cluster to `plan` (none yet).
pub(crate) fn plan_tests(_session: &Session, _plan: &mut Plan) -> Result<(), BuildError> {
    Ok(())
}
