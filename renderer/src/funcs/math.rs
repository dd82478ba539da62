//! Sprig's arithmetic.
//!
//! Integer math (`add`, `sub`, `mul`, `div`, `mod`, `max`, `min`, `add1`) casts every
//! argument with `cast.ToInt64` (floats truncate, numeric strings parse, anything else is 0)
//! and returns int64, wrapping on overflow as Go does. Float math (`addf`, `subf`, `mulf`,
//! `divf`, `add1f`) casts with `cast.ToFloat64`, computes in exact decimal (shopspring/decimal;
//! division keeps 16 decimal places, rounded half away from zero) and returns the nearest
//! float64, so `addf 0.1 0.2` is `0.3`.

use std::collections::HashMap;

use super::args;
use super::conv::{to_float64, to_int64};
use crate::value::{Func, FuncCtx, FuncError, Value};

pub(super) fn register(m: &mut HashMap<&'static str, Func>) {
    m.insert("add1", |_, a| {
        args::want("add1", a, 1)?;
        Ok(Value::Int(to_int64(&a[0]).wrapping_add(1)))
    });
    m.insert("add", |_, a| {
        Ok(Value::Int(
            a.iter().fold(0i64, |acc, x| acc.wrapping_add(to_int64(x))),
        ))
    });
    m.insert("sub", |_, a| {
        args::want("sub", a, 2)?;
        Ok(Value::Int(to_int64(&a[0]).wrapping_sub(to_int64(&a[1]))))
    });
    m.insert("div", |_, a| {
        args::want("div", a, 2)?;
        let d = to_int64(&a[1]);
        if d == 0 {
            return Err(divide_by_zero());
        }
        Ok(Value::Int(to_int64(&a[0]).wrapping_div(d)))
    });
    m.insert("mod", |_, a| {
        args::want("mod", a, 2)?;
        let d = to_int64(&a[1]);
        if d == 0 {
            return Err(divide_by_zero());
        }
        Ok(Value::Int(to_int64(&a[0]).wrapping_rem(d)))
    });
    m.insert("mul", |_, a| {
        args::want_at_least("mul", a, 1)?;
        Ok(Value::Int(a[1..].iter().fold(to_int64(&a[0]), |acc, x| {
            acc.wrapping_mul(to_int64(x))
        })))
    });
    m.insert("max", |_, a| int_fold("max", a, i64::max));
    m.insert("biggest", |_, a| int_fold("biggest", a, i64::max));
    m.insert("min", |_, a| int_fold("min", a, i64::min));
    m.insert("maxf", |_, a| float_fold("maxf", a, go_max));
    m.insert("minf", |_, a| float_fold("minf", a, go_min));
    m.insert("floor", |_, a| {
        args::want("floor", a, 1)?;
        Ok(Value::Float(to_float64(&a[0]).floor()))
    });
    m.insert("ceil", |_, a| {
        args::want("ceil", a, 1)?;
        Ok(Value::Float(to_float64(&a[0]).ceil()))
    });
    m.insert("round", round);
    m.insert("add1f", |_, a| {
        args::want("add1f", a, 1)?;
        decimal_op(&a[0], &[Value::Int(1)], Op::Add)
    });
    m.insert("addf", |_, a| decimal_op(&Value::Float(0.0), a, Op::Add));
    m.insert("subf", |_, a| {
        args::want_at_least("subf", a, 1)?;
        decimal_op(&a[0], &a[1..], Op::Sub)
    });
    m.insert("mulf", |_, a| {
        args::want_at_least("mulf", a, 1)?;
        decimal_op(&a[0], &a[1..], Op::Mul)
    });
    m.insert("divf", |_, a| {
        args::want_at_least("divf", a, 1)?;
        decimal_op(&a[0], &a[1..], Op::Div)
    });
}

fn divide_by_zero() -> FuncError {
    FuncError::new("runtime error: integer divide by zero")
}

fn int_fold(name: &str, a: &[Value], f: fn(i64, i64) -> i64) -> Result<Value, FuncError> {
    args::want_at_least(name, a, 1)?;
    Ok(Value::Int(
        a[1..]
            .iter()
            .fold(to_int64(&a[0]), |acc, x| f(acc, to_int64(x))),
    ))
}

fn float_fold(name: &str, a: &[Value], f: fn(f64, f64) -> f64) -> Result<Value, FuncError> {
    args::want_at_least(name, a, 1)?;
    Ok(Value::Float(
        a[1..]
            .iter()
            .fold(to_float64(&a[0]), |acc, x| f(acc, to_float64(x))),
    ))
}

/// Go's `math.Max`: NaN wins, +0 beats -0.
fn go_max(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x == 0.0 && y == 0.0 {
        if x.is_sign_negative() {
            y
        } else {
            x
        }
    } else {
        x.max(y)
    }
}

/// Go's `math.Min`: NaN wins, -0 beats +0.
fn go_min(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x == 0.0 && y == 0.0 {
        if x.is_sign_negative() {
            x
        } else {
            y
        }
    } else {
        x.min(y)
    }
}

/// Sprig's `round VALUE PLACES [HALF]`: away from the floor when the scaled fraction is at
/// least HALF (0.5 by default).
fn round(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want_at_least("round", a, 2)?;
    let places = args::int(a, 1)?;
    let mut round_on = 0.5;
    for i in 2..a.len() {
        let f = args::float(a, i)?;
        if i == 2 {
            round_on = f;
        }
    }
    let val = to_float64(&a[0]);
    let pow = 10f64.powf(places as f64);
    let digit = pow * val;
    let frac = digit.fract();
    let r = if frac >= round_on {
        digit.ceil()
    } else {
        digit.floor()
    };
    Ok(Value::Float(r / pow))
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// A decimal `mant × 10^exp`.
#[derive(Clone, Copy, Debug)]
struct Dec {
    mant: i128,
    exp: i32,
}

const DIV_PRECISION: i32 = 16;

impl Dec {
    /// shopspring's `NewFromFloat`: the shortest decimal that reads back as `f`.
    fn from_f64(f: f64) -> Result<Dec, FuncError> {
        if !f.is_finite() {
            return Err(FuncError::new(format!(
                "Cannot create a Decimal from {}",
                crate::fmt::format_float_v(f)
            )));
        }
        let e = format!("{f:e}");
        let (m, x) = e.split_once('e').unwrap_or((&e, "0"));
        let exp: i32 = x.parse().unwrap_or(0);
        let neg = m.starts_with('-');
        let (int_part, frac_part) = m
            .trim_start_matches('-')
            .split_once('.')
            .unwrap_or((m.trim_start_matches('-'), ""));
        let digits = format!("{int_part}{frac_part}");
        let mut mant: i128 = digits.parse().unwrap_or(0);
        if neg {
            mant = -mant;
        }
        Ok(Dec {
            mant,
            exp: exp - frac_part.len() as i32,
        })
    }

    fn to_f64(self) -> f64 {
        format!("{}e{}", self.mant, self.exp).parse().unwrap_or(0.0)
    }

    /// `mant × 10^k` for `k ≥ 0`, or `None` on overflow.
    fn scaled(mant: i128, k: i32) -> Option<i128> {
        let p = 10i128.checked_pow(u32::try_from(k).ok()?)?;
        mant.checked_mul(p)
    }

    /// Drops trailing zeros of the mantissa (keeps the value).
    fn normalized(mut self) -> Dec {
        while self.mant != 0 && self.mant % 10 == 0 {
            self.mant /= 10;
            self.exp += 1;
        }
        self
    }

    fn add(self, o: Dec) -> Option<Dec> {
        let (a, b) = (self.normalized(), o.normalized());
        let exp = a.exp.min(b.exp);
        let x = Dec::scaled(a.mant, a.exp - exp)?;
        let y = Dec::scaled(b.mant, b.exp - exp)?;
        Some(Dec {
            mant: x.checked_add(y)?,
            exp,
        })
    }

    fn mul(self, o: Dec) -> Option<Dec> {
        let (a, b) = (self.normalized(), o.normalized());
        Some(Dec {
            mant: a.mant.checked_mul(b.mant)?,
            exp: a.exp.checked_add(b.exp)?,
        })
    }

    /// `DivRound(o, 16)`: 16 decimal places, half away from zero.
    fn div(self, o: Dec) -> Option<Dec> {
        let (a, b) = (self.normalized(), o.normalized());
        // a/b × 10^16 = a.mant × 10^(a.exp − b.exp + 16) / b.mant
        let k = a.exp - b.exp + DIV_PRECISION;
        let (num, den) = if k >= 0 {
            (Dec::scaled(a.mant, k)?, b.mant)
        } else {
            (a.mant, Dec::scaled(b.mant, -k)?)
        };
        let mut q = num / den;
        let r = num % den;
        if r.unsigned_abs().checked_mul(2)? >= den.unsigned_abs() {
            if (num < 0) != (den < 0) {
                q -= 1;
            } else {
                q += 1;
            }
        }
        Some(Dec {
            mant: q,
            exp: -DIV_PRECISION,
        })
    }
}

/// Sprig's `execDecimalOp`: folds `rest` into `first` in decimal, returns a float64.
fn decimal_op(first: &Value, rest: &[Value], op: Op) -> Result<Value, FuncError> {
    let mut acc = to_float64(first);
    let mut dec = Dec::from_f64(acc)?;
    for x in rest {
        let xf = to_float64(x);
        let d = Dec::from_f64(xf)?;
        if matches!(op, Op::Div) && xf == 0.0 {
            return Err(FuncError::new("decimal division by 0"));
        }
        let exact = match op {
            Op::Add => dec.add(d),
            Op::Sub => dec.add(Dec {
                mant: -d.mant,
                exp: d.exp,
            }),
            Op::Mul => dec.mul(d),
            Op::Div => dec.div(d),
        };
        // Beyond 38 digits fall back to binary floating point (last-bit differences only).
        dec = match exact {
            Some(v) => v,
            None => {
                let f = match op {
                    Op::Add => acc + xf,
                    Op::Sub => acc - xf,
                    Op::Mul => acc * xf,
                    Op::Div => acc / xf,
                };
                Dec::from_f64(f)?
            }
        };
        acc = dec.to_f64();
    }
    Ok(Value::Float(dec.to_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fmt::sprint_v;

    fn call(name: &str, a: &[Value]) -> Result<String, String> {
        let mut m = HashMap::new();
        register(&mut m);
        m[name](&FuncCtx::default(), a)
            .map(|v| sprint_v(&v))
            .map_err(|e| e.message)
    }

    fn i(x: i64) -> Value {
        Value::Int(x)
    }
    fn f(x: f64) -> Value {
        Value::Float(x)
    }

    #[test]
    fn integer_math_casts_to_int64() {
        assert_eq!(call("add", &[i(1), f(2.5)]).unwrap(), "3");
        assert_eq!(call("add", &[]).unwrap(), "0");
        assert_eq!(call("add", &[Value::str("4"), Value::Nil]).unwrap(), "4");
        assert_eq!(call("add1", &[f(1.9)]).unwrap(), "2");
        assert_eq!(call("sub", &[i(1), i(3)]).unwrap(), "-2");
        assert_eq!(call("mul", &[i(2), i(3), f(4.0)]).unwrap(), "24");
        assert_eq!(call("div", &[i(7), i(2)]).unwrap(), "3");
        assert_eq!(call("div", &[i(-7), i(2)]).unwrap(), "-3");
        assert_eq!(call("mod", &[i(-7), i(3)]).unwrap(), "-1");
        assert_eq!(
            call("div", &[i(1), i(0)]).unwrap_err(),
            "runtime error: integer divide by zero"
        );
        assert_eq!(call("max", &[i(1), f(5.5), i(3)]).unwrap(), "5");
        assert_eq!(call("min", &[i(1), i(-5), i(3)]).unwrap(), "-5");
        assert_eq!(
            call("add", &[i(i64::MAX), i(1)]).unwrap(),
            i64::MIN.to_string()
        );
        assert_eq!(
            call("max", &[]).unwrap_err(),
            "wrong number of args for max: want at least 1 got 0"
        );
    }

    #[test]
    fn float_math_is_decimal() {
        assert_eq!(call("addf", &[f(0.1), f(0.2)]).unwrap(), "0.3");
        assert_eq!(call("addf", &[i(1), f(2.5)]).unwrap(), "3.5");
        assert_eq!(call("subf", &[f(0.3), f(0.1)]).unwrap(), "0.2");
        assert_eq!(call("mulf", &[f(1.1), f(3.0)]).unwrap(), "3.3");
        assert_eq!(call("divf", &[i(1), i(3)]).unwrap(), "0.3333333333333333");
        assert_eq!(call("divf", &[i(2), i(3)]).unwrap(), "0.6666666666666667");
        assert_eq!(call("divf", &[i(10), i(4)]).unwrap(), "2.5");
        assert_eq!(call("add1f", &[f(1.5)]).unwrap(), "2.5");
        assert_eq!(
            call("divf", &[i(1), i(0)]).unwrap_err(),
            "decimal division by 0"
        );
        assert_eq!(call("maxf", &[i(1), f(2.5)]).unwrap(), "2.5");
        assert_eq!(call("minf", &[i(1), f(2.5)]).unwrap(), "1");
    }

    #[test]
    fn rounding() {
        assert_eq!(call("floor", &[f(1.7)]).unwrap(), "1");
        assert_eq!(call("ceil", &[Value::str("1.2")]).unwrap(), "2");
        assert_eq!(call("round", &[f(1.23456), i(2)]).unwrap(), "1.23");
        assert_eq!(call("round", &[f(2.5), i(0)]).unwrap(), "3");
        assert_eq!(call("round", &[f(-2.5), i(0)]).unwrap(), "-3");
        assert_eq!(call("round", &[f(2.4), i(0), f(0.4)]).unwrap(), "2");
    }

    #[test]
    fn against_helm() {
        let s = Value::str;
        let vals = vec![
            i(7),
            i(-7),
            f(2.5),
            f(-2.5),
            s("12"),
            s("1.5"),
            Value::Nil,
            Value::Bool(true),
            i(0),
        ];
        let mut cases: Vec<(&str, Vec<Value>)> = Vec::new();
        for a in &vals {
            for b in &vals {
                for name in [
                    "add", "sub", "mul", "div", "mod", "max", "min", "addf", "subf", "mulf",
                    "divf", "maxf", "minf",
                ] {
                    cases.push((name, vec![a.clone(), b.clone()]));
                }
            }
            for name in [
                "add1", "add1f", "floor", "ceil", "biggest", "mul", "max", "minf",
            ] {
                cases.push((name, vec![a.clone()]));
            }
        }
        cases.extend([
            ("add", vec![]),
            ("add", vec![i(1), i(2), i(3), f(4.9)]),
            ("addf", vec![]),
            ("addf", vec![f(0.1), f(0.2), f(0.3)]),
            ("mulf", vec![f(0.1), f(3.0)]),
            ("mulf", vec![f(1.15), i(100)]),
            ("divf", vec![i(10), i(3), i(3)]),
            ("divf", vec![f(1e-10), i(3)]),
            ("divf", vec![f(1e20), f(3.0)]),
            ("divf", vec![f(-2.0), i(3)]),
            ("subf", vec![f(1e16), f(0.1)]),
            ("addf", vec![f(1e300), f(1e-300)]),
            ("mulf", vec![f(1e200), f(1e200)]),
            (
                "mulf",
                vec![f(1.0000001), f(1.0000001), f(1.0000001), f(1.0000001)],
            ),
            ("round", vec![f(1.23456), i(2)]),
            ("round", vec![f(2.5), i(0)]),
            ("round", vec![f(-2.5), i(0)]),
            ("round", vec![f(2.4), i(0), f(0.4)]),
            ("round", vec![s("1.005"), i(2)]),
            ("round", vec![f(1234.5678), i(-2)]),
            ("max", vec![]),
            ("sub", vec![i(1)]),
            ("floor", vec![s("x")]),
        ]);
        super::super::reflect::oracle::check(&cases);
    }
}
