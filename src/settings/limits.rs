//! The limits on outside input, from `MLPROV_MAX_*` and `MLPROV_REGO_*`.

use super::env::{BadVariable, EnvironmentOptions};
use crate::limits::{Limits, Unit};

/// The limits in force: each variable that is set, parsed strictly, else
/// the default.
pub fn resolve(env: &EnvironmentOptions) -> Result<Limits, BadVariable> {
    let mut limits = Limits::default();
    for (limit, text) in &env.limits {
        let Some(v) = crate::limits::parse(*limit, text) else {
            return Err(BadVariable {
                name: limit.variable(),
                value: text.clone(),
                expected: match limit.unit() {
                    Unit::Bytes => "a size above zero (bytes, or with KiB, MiB or GiB)",
                    Unit::Count => "a whole number above zero",
                    Unit::Seconds => "a number of seconds above zero (at most a day)",
                },
                example: match limit.unit() {
                    Unit::Bytes => "64MiB",
                    Unit::Count => "1000",
                    Unit::Seconds => "30s",
                },
            });
        };
        limits.set(*limit, v);
    }
    Ok(limits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limit;

    #[test]
    fn unset_variables_keep_the_defaults_and_set_ones_apply() {
        let env = EnvironmentOptions::from_pairs(&[
            ("MLPROV_MAX_BUNDLE_BYTES", "64MiB"),
            ("MLPROV_REGO_EVAL_TIMEOUT", "30s"),
        ]);
        let l = resolve(&env).unwrap();
        assert_eq!(l.value(Limit::BundleBytes), 64 << 20);
        assert_eq!(l.value(Limit::RegoEvalSeconds), 30);
        assert_eq!(l.value(Limit::LockBytes), Limit::LockBytes.default_value());
    }

    #[test]
    fn a_bad_value_names_the_variable() {
        let env = EnvironmentOptions::from_pairs(&[("MLPROV_MAX_REFERRERS", "lots")]);
        let e = resolve(&env).unwrap_err();
        assert_eq!(e.name, "MLPROV_MAX_REFERRERS");
        assert!(e.to_string().contains("lots"), "{e}");
    }
}
