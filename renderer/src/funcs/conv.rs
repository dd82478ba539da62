use std::collections::HashMap;

use crate::value::Func;

pub(super) fn register(_m: &mut HashMap<&'static str, Func>) {}
