//! OPA's `crypto.*` digest and HMAC builtins, which regorus does not have:
//! registered as regorus extensions under OPA's names, with OPA's results
//! (lower-case hex) and a type error for anything but strings.
//! `crypto.x509.*` and `crypto.parse_private_keys` are not provided: a
//! policy that uses them fails closed (E0407).

use hmac::{KeyInit, Mac};
use regorus::Value;
use sha2::Digest;

fn string_arg(name: &str, args: &[Value], i: usize) -> anyhow::Result<String> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.to_string()),
        Some(other) => anyhow::bail!(
            "{name}: operand {} must be string but got {}",
            i + 1,
            type_name(other)
        ),
        None => anyhow::bail!("{name}: missing operand {}", i + 1),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Set(_) => "set",
        Value::Object(_) => "object",
        Value::Undefined => "undefined",
    }
}

fn digest<D: Digest>(
    name: &'static str,
) -> impl FnMut(Vec<Value>) -> anyhow::Result<Value> + Clone + Send + Sync {
    move |args| {
        let s = string_arg(name, &args, 0)?;
        Ok(Value::from(hex::encode(D::digest(s.as_bytes()))))
    }
}

fn hmac<M: Mac + KeyInit>(
    name: &'static str,
) -> impl FnMut(Vec<Value>) -> anyhow::Result<Value> + Clone + Send + Sync {
    move |args| {
        let msg = string_arg(name, &args, 0)?;
        let key = string_arg(name, &args, 1)?;
        let mut mac = <M as KeyInit>::new_from_slice(key.as_bytes())
            .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        mac.update(msg.as_bytes());
        Ok(Value::from(hex::encode(mac.finalize().into_bytes())))
    }
}

fn hmac_equal(args: Vec<Value>) -> anyhow::Result<Value> {
    let a = string_arg("crypto.hmac.equal", &args, 0)?;
    let b = string_arg("crypto.hmac.equal", &args, 1)?;
    // Constant time in the length of the shorter operand, as Go's hmac.Equal.
    let same = a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0;
    Ok(Value::from(same))
}

/// Add the builtins to an engine.
pub fn register(engine: &mut regorus::Engine) {
    let builtins: Vec<(&str, u8, Box<dyn regorus::Extension>)> = vec![
        ("crypto.md5", 1, Box::new(digest::<md5::Md5>("crypto.md5"))),
        (
            "crypto.sha1",
            1,
            Box::new(digest::<sha1::Sha1>("crypto.sha1")),
        ),
        (
            "crypto.sha256",
            1,
            Box::new(digest::<sha2::Sha256>("crypto.sha256")),
        ),
        (
            "crypto.hmac.md5",
            2,
            Box::new(hmac::<hmac::Hmac<md5::Md5>>("crypto.hmac.md5")),
        ),
        (
            "crypto.hmac.sha1",
            2,
            Box::new(hmac::<hmac::Hmac<sha1::Sha1>>("crypto.hmac.sha1")),
        ),
        (
            "crypto.hmac.sha256",
            2,
            Box::new(hmac::<hmac::Hmac<sha2::Sha256>>("crypto.hmac.sha256")),
        ),
        (
            "crypto.hmac.sha512",
            2,
            Box::new(hmac::<hmac::Hmac<sha2::Sha512>>("crypto.hmac.sha512")),
        ),
        ("crypto.hmac.equal", 2, Box::new(hmac_equal)),
    ];
    for (name, nargs, f) in builtins {
        // Each name is added once, to a fresh engine: this cannot fail.
        let _ = engine.add_extension(name.to_string(), nargs, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(expr: &str) -> anyhow::Result<Value> {
        let mut e = regorus::Engine::new();
        e.set_strict_builtin_errors(true);
        register(&mut e);
        e.add_policy("t.rego".into(), format!("package t\nx := {expr}\n"))?;
        e.eval_rule("data.t.x".into())
    }

    #[test]
    fn digests_and_hmacs_match_known_values() {
        let cases = [
            ("crypto.md5(\"abc\")", "900150983cd24fb0d6963f7d28e17f72"),
            (
                "crypto.sha1(\"abc\")",
                "a9993e364706816aba3e25717850c26c9cd0d89d",
            ),
            (
                "crypto.sha256(\"abc\")",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (
                // RFC 4231 test case 2.
                "crypto.hmac.sha256(\"what do ya want for nothing?\", \"Jefe\")",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
        ];
        for (expr, want) in cases {
            assert_eq!(eval(expr).unwrap(), Value::from(want), "{expr}");
        }
        assert_eq!(
            eval("crypto.hmac.equal(\"ab\", \"ab\")").unwrap(),
            Value::from(true)
        );
        assert_eq!(
            eval("crypto.hmac.equal(\"ab\", \"ac\")").unwrap(),
            Value::from(false)
        );
        let e = eval("crypto.sha256(1)").unwrap_err().to_string();
        assert!(e.contains("must be string"), "{e}");
    }
}
