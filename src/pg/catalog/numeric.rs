//! numeric: exact decimals for SQL arithmetic on numeric values.

use std::cmp::Ordering;

use crate::pg::error::{sqlstate, PgError};

/// An exact decimal `mant / 10^scale`. PostgreSQL's numeric allows far more
/// digits; 38 are plenty for catalog arithmetic, and overflow is an error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Numeric {
    pub mant: i128,
    pub scale: u32,
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

fn numeric_overflow() -> PgError {
    PgError::new(
        sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
        "value overflows numeric format",
    )
}

pub(crate) fn division_by_zero() -> PgError {
    PgError::new(DIVISION_BY_ZERO, "division by zero")
}

/// SQLSTATE 22012 (not among the shared constants).
pub(crate) const DIVISION_BY_ZERO: &str = "22012";

impl Numeric {
    pub fn from_i64(i: i64) -> Numeric {
        Numeric {
            mant: i as i128,
            scale: 0,
        }
    }

    /// numeric_in: `[+-]digits[.digits][e[+-]digits]`.
    pub fn parse(s: &str) -> Option<Numeric> {
        let s = s.trim();
        let (neg, body) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let (num, exp) = match body.find(['e', 'E']) {
            Some(i) => (&body[..i], body[i + 1..].parse::<i32>().ok()?),
            None => (body, 0),
        };
        let (ip, fp) = num.split_once('.').unwrap_or((num, ""));
        if ip.is_empty() && fp.is_empty()
            || !ip.bytes().chain(fp.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let mut mant: i128 = 0;
        for b in ip.bytes().chain(fp.bytes()) {
            mant = mant.checked_mul(10)?.checked_add((b - b'0') as i128)?;
        }
        let mut scale = fp.len() as i64 - exp as i64;
        if scale < 0 {
            mant = mant.checked_mul(pow10(u32::try_from(-scale).ok()?)?)?;
            scale = 0;
        }
        let scale = u32::try_from(scale).ok().filter(|&s| s <= 1000)?;
        Some(Numeric {
            mant: if neg { -mant } else { mant },
            scale,
        })
    }

    /// float8 → numeric keeps DBL_DIG (15) significant digits, like
    /// PostgreSQL's `%.15g`.
    pub fn from_f64(f: f64) -> Option<Numeric> {
        if !f.is_finite() {
            return None;
        }
        Numeric::parse(&format!("{f:.14e}")).map(|n| n.normalized())
    }

    pub fn to_f64(self) -> f64 {
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    /// Rounds half away from zero to an integer.
    pub fn to_i64(self) -> Option<i64> {
        i64::try_from(self.round(0).mant).ok()
    }

    /// Without trailing fractional zeros.
    pub fn normalized(mut self) -> Numeric {
        while self.scale > 0 && self.mant % 10 == 0 {
            self.mant /= 10;
            self.scale -= 1;
        }
        self
    }

    fn with_scale(self, scale: u32) -> Option<Numeric> {
        if scale >= self.scale {
            let mant = self.mant.checked_mul(pow10(scale - self.scale)?)?;
            Some(Numeric { mant, scale })
        } else {
            Some(self.round(scale))
        }
    }

    /// Rounds (half away from zero) to `scale` digits; pads if more.
    pub fn round(self, scale: u32) -> Numeric {
        if scale >= self.scale {
            return self.with_scale(scale).unwrap_or(self);
        }
        let Some(div) = pow10(self.scale - scale) else {
            return Numeric { mant: 0, scale };
        };
        let q = self.mant / div;
        let r = self.mant % div;
        let q = if r.unsigned_abs() * 2 >= div.unsigned_abs() {
            q + self.mant.signum()
        } else {
            q
        };
        Numeric { mant: q, scale }
    }

    /// Rounds toward negative (floor) or positive (ceil) infinity, scale 0.
    pub fn floor_ceil(self, ceil: bool) -> Numeric {
        let Some(div) = pow10(self.scale) else {
            return Numeric { mant: 0, scale: 0 };
        };
        let q = self.mant.div_euclid(div);
        let exact = self.mant.rem_euclid(div) == 0;
        Numeric {
            mant: if ceil && !exact { q + 1 } else { q },
            scale: 0,
        }
    }

    /// `self ^ exp` at PostgreSQL's result scale (16 significant digits,
    /// no fewer fraction digits than the inputs). Integer exponents are
    /// exact; others go through float8.
    pub fn pow(self, exp: Numeric) -> Result<Numeric, PgError> {
        let approx = self.to_f64().powf(exp.to_f64());
        if !approx.is_finite() {
            return Err(PgError::new(
                sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
                "value out of range: overflow",
            ));
        }
        let magnitude = if approx == 0.0 {
            0
        } else {
            approx.abs().log10() as i32
        };
        let rscale = (16 - magnitude)
            .max(self.scale as i32)
            .max(exp.scale as i32)
            .clamp(0, 1000) as u32;
        let e = exp.normalized();
        if e.scale == 0 && e.mant.abs() <= 1000 {
            let mut result = Numeric::from_i64(1);
            for _ in 0..e.mant.abs() {
                result = result.mul(self)?.round(rscale.max(self.scale) + 8);
            }
            return if e.mant < 0 {
                Numeric::from_i64(1).div_at(result, rscale)
            } else {
                Ok(result.round(rscale))
            };
        }
        Numeric::from_f64(approx)
            .map(|n| n.round(rscale))
            .ok_or_else(numeric_overflow)
    }

    pub fn neg(self) -> Numeric {
        Numeric {
            mant: -self.mant,
            scale: self.scale,
        }
    }

    pub fn add(self, other: Numeric) -> Result<Numeric, PgError> {
        let s = self.scale.max(other.scale);
        let (a, b) = (self.with_scale(s), other.with_scale(s));
        match (a, b) {
            (Some(a), Some(b)) => a
                .mant
                .checked_add(b.mant)
                .map(|mant| Numeric { mant, scale: s }),
            _ => None,
        }
        .ok_or_else(numeric_overflow)
    }

    pub fn sub(self, other: Numeric) -> Result<Numeric, PgError> {
        self.add(other.neg())
    }

    pub fn mul(self, other: Numeric) -> Result<Numeric, PgError> {
        let mant = self
            .mant
            .checked_mul(other.mant)
            .ok_or_else(numeric_overflow)?;
        Ok(Numeric {
            mant,
            scale: self.scale + other.scale,
        })
    }

    /// Division at PostgreSQL's select_div_scale result scale: at least 16
    /// significant digits, and no fewer fraction digits than either input.
    pub fn div(self, other: Numeric) -> Result<Numeric, PgError> {
        if other.mant == 0 {
            return Err(division_by_zero());
        }
        let (w1, d1) = self.weight_and_first_digit();
        let (w2, d2) = other.weight_and_first_digit();
        let mut qweight = w1 - w2;
        if d1 <= d2 {
            qweight -= 1;
        }
        let rscale = (16 - qweight * 4)
            .max(self.scale as i32)
            .max(other.scale as i32)
            .clamp(0, 1000) as u32;
        self.div_at(other, rscale)
    }

    /// `self / other` rounded to `rscale` fraction digits.
    pub fn div_at(self, other: Numeric, rscale: u32) -> Result<Numeric, PgError> {
        if other.mant == 0 {
            return Err(division_by_zero());
        }
        let shift = rscale as i64 + other.scale as i64 - self.scale as i64;
        let (num, den) = if shift >= 0 {
            let p = pow10(shift as u32).ok_or_else(numeric_overflow)?;
            (
                self.mant.checked_mul(p).ok_or_else(numeric_overflow)?,
                other.mant,
            )
        } else {
            let p = pow10((-shift) as u32).ok_or_else(numeric_overflow)?;
            (
                self.mant,
                other.mant.checked_mul(p).ok_or_else(numeric_overflow)?,
            )
        };
        let q = num / den;
        let r = num % den;
        let q = if r != 0 && r.unsigned_abs() * 2 >= den.unsigned_abs() {
            q + num.signum() * den.signum()
        } else {
            q
        };
        Ok(Numeric {
            mant: q,
            scale: rscale,
        })
    }

    /// The weight and first digit in PostgreSQL's base-10000 representation
    /// (what select_div_scale looks at).
    fn weight_and_first_digit(self) -> (i32, u128) {
        if self.mant == 0 {
            return (0, 0);
        }
        let abs = self.mant.unsigned_abs();
        let ndigits = abs.to_string().len() as i32;
        let exp10 = ndigits - 1 - self.scale as i32;
        let weight = exp10.div_euclid(4);
        let k = self.scale as i32 + 4 * weight;
        let first = if k >= 0 {
            abs / 10u128.pow(k as u32)
        } else {
            abs * 10u128.pow((-k) as u32)
        };
        (weight, first)
    }

    pub fn cmp(&self, other: &Numeric) -> Ordering {
        let s = self.scale.max(other.scale);
        match (self.with_scale(s), other.with_scale(s)) {
            (Some(a), Some(b)) => a.mant.cmp(&b.mant),
            _ => self.to_f64().total_cmp(&other.to_f64()),
        }
    }
}

impl std::fmt::Display for Numeric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = self.mant.unsigned_abs().to_string();
        if self.mant < 0 {
            f.write_str("-")?;
        }
        let scale = self.scale as usize;
        if scale == 0 {
            return f.write_str(&digits);
        }
        let padded = if digits.len() <= scale {
            format!("{}{}", "0".repeat(scale + 1 - digits.len()), digits)
        } else {
            digits
        };
        let (int, frac) = padded.split_at(padded.len() - scale);
        write!(f, "{int}.{frac}")
    }
}
