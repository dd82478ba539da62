//! Helm's `CoalesceValues` (placeholder until the full version lands).

use super::{Chart, ChartError};
use crate::value::Data;

pub(crate) fn coalesce_values(chart: &Chart, user: &Data) -> Result<Data, ChartError> {
    let mut v = chart.values.clone();
    super::merge_maps(&mut v, user.clone());
    Ok(v)
}
