//! `values.schema.json` validation (placeholder until the full version lands).

use super::{Chart, ChartError};
use crate::value::Data;

pub(crate) fn validate_all(chart: &Chart, values: &Data) -> Result<(), ChartError> {
    let _ = (chart, values);
    Ok(())
}
