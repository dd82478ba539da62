//! Helm's `ProcessDependencies` (placeholder until the full version lands).

use super::{Chart, ChartError};
use crate::value::Data;

pub(crate) fn check_dependencies(chart: &Chart) -> Result<(), ChartError> {
    let _ = chart;
    Ok(())
}

pub(crate) fn process_dependencies(chart: &mut Chart, user: &Data) -> Result<(), ChartError> {
    let _ = (chart, user);
    Ok(())
}
