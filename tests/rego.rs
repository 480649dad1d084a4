//! Rego as OPA runs it: the same policies and inputs through mlprov's Rego
//! wrapper (regorus) and through the real OPA engine
//! (`../shared/tools/opa-eval`), with the same decisions except for the
//! documented differences, where mlprov must be the stricter one (the
//! README, "Rego policies", lists the same cases). Also the limits that keep
//! a policy from hanging or crashing `verify` (issue 19).

use std::path::Path;

use mlprov::verify::rego::{Outcome, RegoPolicy};
use serde_json::{Value, json};

use crate::common::{self, TestEnv};

/// What a deny query decided.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    /// No message: the artifact passes.
    Allow,
    /// These messages (sorted).
    Deny(Vec<String>),
    /// The policy could not be evaluated (mlprov: E0407 or refused at load).
    Error(String),
}

impl Decision {
    fn same_as(&self, other: &Decision) -> bool {
        match (self, other) {
            (Decision::Error(_), Decision::Error(_)) => true,
            (a, b) => a == b,
        }
    }
    /// Fails at least as closed as `other`: an error, or denying where
    /// `other` allows.
    fn stricter_than(&self, other: &Decision) -> bool {
        matches!(
            (self, other),
            (Decision::Error(_), _) | (Decision::Deny(_), Decision::Allow)
        )
    }
}

struct Case {
    name: &'static str,
    /// Rego in `package t` (the query is `data.t.deny`), unless it starts
    /// with `package`.
    policy: &'static str,
    input: Value,
    /// How mlprov's decision relates to OPA's.
    differs: Differs,
}

/// The documented differences (the README lists the same).
#[derive(Clone, Copy)]
enum Differs {
    /// The same decision and the same messages.
    No,
    /// mlprov decides more strictly: why.
    Stricter(&'static str),
    /// Both deny, with other message text: why.
    MessageText(&'static str),
}

const SEED: &str = include_str!("fixtures/rego/model-deployment.rego");

fn seed_input() -> Value {
    json!({
        "model": {"name": "acme/support", "version": "1.2.0"},
        "attestation": {
            "signature_verified": true,
            "sbom_attached": true,
            "certificate_identity": "https://github.com/example-org/ml-pipelines/.github/workflows/train.yml@refs/heads/main",
        },
        "sbom": {
            "properties": {"training-commit": "13c7171f3c53ad0bd0a1b1d2cf47b0e6c1b7a1f0"},
            "components": [
                {"bom-ref": "base-model", "type": "machine-learning-model", "name": "llama",
                 "externalReferences": [{"type": "distribution", "comment": "revision:c1b0db933684edbfe29a06fa47eb19cc48025e93"}]},
                {"bom-ref": "data", "type": "data", "name": "support-data",
                 "hashes": [{"alg": "SHA-256", "content": "41c2"}]}
            ]
        }
    })
}

fn cases() -> Vec<Case> {
    let mut unsigned = seed_input();
    unsigned["attestation"] = json!({"signature_verified": false, "sbom_attached": false});
    let mut sloppy = seed_input();
    sloppy["sbom"]["properties"] = json!({});
    sloppy["sbom"]["components"][0]["externalReferences"][0]["comment"] = json!("revision:main");
    sloppy["sbom"]["components"][1]
        .as_object_mut()
        .unwrap()
        .remove("hashes");
    sloppy["attestation"]["certificate_identity"] =
        json!("https://github.com/someone/else/.github/workflows/x.yml@refs/heads/main");
    let mut key_signed = seed_input();
    key_signed["attestation"]
        .as_object_mut()
        .unwrap()
        .remove("certificate_identity");
    let mut no_model = seed_input();
    no_model.as_object_mut().unwrap().remove("model");
    no_model["attestation"]["signature_verified"] = json!(false);

    vec![
        // The seed's `package model.deployment` policy, verbatim.
        Case {
            name: "seed: a fully attested model passes",
            policy: SEED,
            input: seed_input(),
            differs: Differs::No,
        },
        Case {
            name: "seed: unsigned, no SBOM",
            policy: SEED,
            input: unsigned,
            differs: Differs::No,
        },
        Case {
            name: "seed: SBOM without commit, unpinned base, unhashed data, other signer",
            policy: SEED,
            input: sloppy,
            differs: Differs::No,
        },
        Case {
            // `not startswith(undefined, …)` is true, but sprintf of an
            // undefined value is undefined: no message in either engine.
            name: "seed: key-signed (no certificate identity)",
            policy: SEED,
            input: key_signed,
            differs: Differs::No,
        },
        Case {
            name: "seed: model name missing from the input",
            policy: SEED,
            input: no_model,
            differs: Differs::No,
        },
        // Undefined values under `not`.
        Case {
            name: "not on a missing key",
            policy: "deny contains \"no scan\" if not input.scan\n",
            input: json!({}),
            differs: Differs::No,
        },
        Case {
            name: "not on a false value",
            policy: "deny contains \"unsigned\" if not input.signed\n",
            input: json!({"signed": false}),
            differs: Differs::No,
        },
        Case {
            name: "not on a comparison with a missing key",
            policy: "deny contains \"not apache\" if not input.license == \"Apache-2.0\"\n",
            input: json!({}),
            differs: Differs::No,
        },
        Case {
            name: "not f(undefined)",
            policy: "pinned(rev) if regex.match(`^[0-9a-f]{40}$`, rev)\n\
                     deny contains \"unpinned\" if not pinned(input.revision)\n",
            input: json!({}),
            differs: Differs::Stricter(
                "regorus takes `not f(undefined)` as true and denies; in OPA the call is undefined and so is the rule: no message",
            ),
        },
        Case {
            name: "not f(x) with a defined argument",
            policy: "pinned(rev) if regex.match(`^[0-9a-f]{40}$`, rev)\n\
                     deny contains \"unpinned\" if not pinned(input.revision)\n",
            input: json!({"revision": "main"}),
            differs: Differs::No,
        },
        // Comprehensions and `every` over missing keys.
        Case {
            name: "comprehension over a missing key is empty",
            policy: "deny contains \"no datasets\" if count([d | some d in input.datasets]) == 0\n",
            input: json!({}),
            differs: Differs::No,
        },
        Case {
            name: "set comprehension over present values",
            policy: "roles := {n.role | some n in input.nodes}\n\
                     deny contains r if { some r in roles; not r in {\"base-model\", \"training-data\"} }\n",
            input: json!({"nodes": [{"role": "base-model"}, {"role": "other"}, {"role": "other"}]}),
            differs: Differs::No,
        },
        Case {
            name: "every over a missing key",
            policy: "deny contains \"unhashed\" if not every_hashed\n\
                     every_hashed if every c in input.components { c.hashes }\n",
            input: json!({}),
            differs: Differs::No,
        },
        Case {
            name: "every over present values, one failing",
            policy: "deny contains \"unhashed\" if not every_hashed\n\
                     every_hashed if every c in input.components { c.hashes }\n",
            input: json!({"components": [{"hashes": [1]}, {"name": "x"}]}),
            differs: Differs::No,
        },
        Case {
            name: "object comprehension and object.get defaults",
            policy: "by_name := {c.name: c | some c in input.components}\n\
                     deny contains n if { some n, c in by_name; object.get(c, [\"license\"], \"NOASSERTION\") == \"NOASSERTION\" }\n",
            input: json!({"components": [{"name": "a", "license": "MIT"}, {"name": "b"}]}),
            differs: Differs::No,
        },
        // sprintf verbs.
        Case {
            name: "sprintf %v %s %d %q %x %.2f %5d",
            policy: "deny contains sprintf(\"%v|%s|%d|%q|%x|%X|%.2f|%5d|%05d|%b|%c\", \
                     [input.o, input.s, input.i, input.s, input.i, input.i, input.f, input.i, input.i, input.i, 65])\n",
            input: json!({"o": {"a": [1, "x"]}, "s": "ab", "i": 255, "f": 0.375}),
            differs: Differs::No,
        },
        Case {
            name: "sprintf: the `-` flag, %o, %e and rounding at an exact half",
            policy: "deny contains sprintf(\"%-4s|%.2f|%o|%e\", [input.s, input.f, 255, input.f])\n",
            input: json!({"s": "ab", "f": 0.125}),
            differs: Differs::MessageText(
                "regorus ignores the `-` flag, writes %o as `0O377` and %e as `1.25e-1` (Go: `377`, `1.250000e-01`) and rounds 0.125 to 0.13 where Go rounds to even (0.12); both deny",
            ),
        },
        Case {
            name: "sprintf %v of sets, arrays, null and booleans",
            policy: "deny contains sprintf(\"%v %v %v %v %v\", [{1, 2}, [true, null], input.n, 1.5, 10000000])\n",
            input: json!({"n": null}),
            differs: Differs::No,
        },
        Case {
            // A learning-rate gate: OPA prints `%!d(float64=0.0005)` into the
            // message and denies; regorus with strict builtin errors fails
            // the node (E0407). Both fail; before strict errors mlprov passed.
            name: "sprintf %d of a float (the learning-rate gate)",
            policy: "deny contains sprintf(\"learning rate %d is below the floor\", [input.lr]) if input.lr < 0.001\n",
            input: json!({"lr": 0.0005}),
            differs: Differs::Stricter(
                "OPA formats a mismatched verb as `%!d(float64=…)` and denies with that message; mlprov fails the node (E0407)",
            ),
        },
        Case {
            name: "sprintf with too few arguments",
            policy: "deny contains sprintf(\"%v and %v\", [input.a]) if input.a\n",
            input: json!({"a": "x"}),
            differs: Differs::Stricter(
                "OPA writes `%!v(MISSING)` into the message and denies; mlprov fails the node (E0407)",
            ),
        },
        // glob, time, semver and the other builtin families.
        Case {
            name: "glob.match with and without separators",
            policy: "deny contains f if { some f in input.files; glob.match(\"*.pkl\", [], f) }\n\
                     deny contains concat(\"\", [\"deep:\", f]) if { some f in input.files; glob.match(\"**/*.bin\", [\"/\"], f) }\n\
                     deny contains concat(\"\", [\"star:\", f]) if { some f in input.files; glob.match(\"*.bin\", [\"/\"], f) }\n",
            input: json!({"files": ["model.pkl", "a/b/weights.bin", "top.bin", "config.json"]}),
            differs: Differs::No,
        },
        Case {
            name: "glob.match: OPA's pattern syntax on a grid",
            policy: "patterns := [\"*\", \"**\", \"*.bin\", \"**.bin\", \"**/*.bin\", \"a/**/b\", \"a/**\", \"**/b\", \"?.bin\", \"[!a]*\", \"[^a]*\", \"[a-c]/*\", \"{a,b}/**\", \"{*.bin,*.pkl}\", \"\\\\*\", \"ab**ba\"]\n\
                     names := [\"a/b\", \"a/x/y/b\", \"top.bin\", \"a/top.bin\", \"x.pkl\", \"b\", \"*\", \"aba\", \"c/d\", \"\"]\n\
                     deny contains sprintf(\"%v ~ %v (%v)\", [p, n, d]) if { some p in patterns; some n in names; some d in [\"/\", \"\"]; ds := [x | x := d; x != \"\"]; glob.match(p, ds, n) }\n",
            input: json!({}),
            differs: Differs::No,
        },
        Case {
            name: "time: RFC 3339, add_date, diff, weekday, format",
            policy: "deny contains \"too old\" if { \
                       built := time.parse_rfc3339_ns(input.built); \
                       expiry := time.add_date(built, 0, 6, 0); \
                       expiry < time.parse_rfc3339_ns(input.now) }\n\
                     deny contains sprintf(\"built on %v %v\", [time.weekday(time.parse_rfc3339_ns(input.built)), time.diff(time.parse_rfc3339_ns(input.now), time.parse_rfc3339_ns(input.built))])\n\
                     deny contains time.format([time.parse_rfc3339_ns(input.built), \"UTC\", \"2006-01-02\"])\n",
            input: json!({"built": "2024-01-31T12:00:00Z", "now": "2024-09-01T00:00:00Z"}),
            differs: Differs::No,
        },
        Case {
            name: "time.parse_duration_ns and clock",
            policy: "deny contains sprintf(\"%v %v\", [time.parse_duration_ns(input.d), time.clock([0, \"UTC\"])])\n",
            input: json!({"d": "1h30m"}),
            differs: Differs::No,
        },
        Case {
            name: "semver.compare and is_valid",
            policy: "deny contains v if { some v in input.versions; semver.is_valid(v); semver.compare(v, \"1.2.0\") < 0 }\n\
                     deny contains concat(\"\", [\"invalid:\", v]) if { some v in input.versions; not semver.is_valid(v) }\n",
            input: json!({"versions": ["1.1.9", "1.2.0", "2.0.0-rc.1", "v1.0", "1.10.0"]}),
            differs: Differs::No,
        },
        Case {
            name: "regex.match, find_n, replace, split",
            policy: "deny contains sprintf(\"%v %v %v\", [regex.find_n(`[0-9]+`, input.s, -1), regex.replace(input.s, `[0-9]`, \"#\"), regex.split(`-`, input.s)])\n\
                     deny contains \"sha\" if regex.match(`^sha256:[0-9a-f]{64}$`, input.d)\n",
            input: json!({"s": "ab-12-c3", "d": format!("sha256:{}", "ab".repeat(32))}),
            differs: Differs::No,
        },
        Case {
            name: "base64, base64url, hex, urlquery",
            policy: "deny contains sprintf(\"%v %v %v %v %v\", [base64.encode(input.s), base64.decode(\"aGk=\"), base64url.encode(\"a?b>\"), hex.encode(input.s), urlquery.encode(\"a b&c\")])\n",
            input: json!({"s": "hi"}),
            differs: Differs::No,
        },
        Case {
            name: "crypto.sha256, md5 and hmac",
            policy: "deny contains crypto.sha256(input.s)\n\
                     deny contains crypto.md5(input.s)\n\
                     deny contains crypto.hmac.sha256(input.s, \"key\")\n\
                     deny contains \"equal\" if crypto.hmac.equal(\"a\", \"a\")\n",
            input: json!({"s": "model"}),
            differs: Differs::No,
        },
        Case {
            name: "json.match_schema",
            policy: "schema := {\"type\": \"object\", \"required\": [\"name\"], \"properties\": {\"name\": {\"type\": \"string\"}}}\n\
                     deny contains \"bad card\" if { [ok, _] := json.match_schema(input.card, schema); not ok }\n",
            input: json!({"card": {"name": 3}}),
            differs: Differs::No,
        },
        Case {
            name: "yaml and json unmarshal",
            policy: "deny contains sprintf(\"%v %v\", [yaml.unmarshal(input.y).lr, json.unmarshal(input.j).epochs])\n",
            input: json!({"y": "lr: 0.001\nname: x\n", "j": "{\"epochs\": 3}"}),
            differs: Differs::No,
        },
        Case {
            name: "units.parse_bytes",
            policy: "deny contains \"too big\" if units.parse_bytes(input.size) > units.parse_bytes(\"10GiB\")\n\
                     deny contains sprintf(\"%v\", [units.parse(\"1.5k\")])\n",
            input: json!({"size": "12GB"}),
            differs: Differs::No,
        },
        Case {
            name: "net.cidr_contains, uuid.parse, strings",
            policy: "deny contains \"internal\" if net.cidr_contains(\"10.0.0.0/8\", input.ip)\n\
                     deny contains sprintf(\"%v\", [uuid.parse(input.u).version])\n\
                     deny contains concat(\",\", [upper(input.s), trim_space(\"  x \"), replace(input.s, \"a\", \"b\"), strings.reverse(input.s)])\n",
            input: json!({"ip": "10.1.2.3", "u": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "s": "abca"}),
            differs: Differs::No,
        },
        Case {
            name: "walk and graph.reachable over the provenance",
            policy: "edges := {n.id: {d | some d in n.deps} | some n in input.nodes}\n\
                     deny contains sprintf(\"%v\", [graph.reachable(edges, {\"m\"})])\n\
                     deny contains sprintf(\"%v\", [count([p | walk(input, [p, v]); is_string(v)])])\n",
            input: json!({"nodes": [{"id": "m", "deps": ["a", "b"]}, {"id": "a", "deps": ["c"]}, {"id": "b", "deps": []}, {"id": "c", "deps": []}, {"id": "z", "deps": ["m"]}]}),
            differs: Differs::No,
        },
        Case {
            name: "with replaces the input",
            policy: "admin if input.role == \"admin\"\n\
                     deny contains \"no admin\" if not admin with input.role as input.asked\n",
            input: json!({"role": "admin", "asked": "user"}),
            differs: Differs::No,
        },
        Case {
            name: "non-string messages",
            policy: "deny contains {\"code\": \"E1\", \"node\": n} if { some n in input.nodes; n != \"ok\" }\n",
            input: json!({"nodes": ["ok", "bad"]}),
            differs: Differs::No,
        },
        // Type errors and other evaluation errors.
        Case {
            name: "type error: arithmetic on a string",
            policy: "deny contains \"big\" if input.epochs + 1 > 10\n",
            input: json!({"epochs": "20"}),
            differs: Differs::No,
        },
        Case {
            name: "type error: count of a number",
            policy: "deny contains \"empty\" if count(input.files) == 0\n",
            input: json!({"files": 3}),
            differs: Differs::No,
        },
        Case {
            name: "to_number of a non-number",
            policy: "deny contains \"lr\" if to_number(input.lr) > 0.1\n",
            input: json!({"lr": "fast"}),
            differs: Differs::No,
        },
        Case {
            name: "division by zero",
            policy: "deny contains \"ratio\" if input.a / input.b > 1\n",
            input: json!({"a": 1, "b": 0}),
            differs: Differs::No,
        },
        Case {
            name: "conflicting complete rule",
            policy: "level := 1 if input.a\nlevel := 2 if input.b\ndeny contains \"x\" if level > 0\n",
            input: json!({"a": true, "b": true}),
            differs: Differs::No,
        },
        Case {
            name: "recursive function",
            policy: "depth(n) := d if { n.parent; d := depth(n.parent) + 1 }\n\
                     deny contains \"deep\" if depth(input) > 3\n",
            input: json!({"parent": {"parent": {}}}),
            differs: Differs::No,
        },
        Case {
            name: "unknown builtin",
            policy: "deny contains \"x\" if crypto.x509.parse_certificates(input.pem)\n",
            input: json!({"pem": "x"}),
            differs: Differs::No,
        },
    ]
}

fn mlprov_decision(dir: &Path, c: &Case, query: &str) -> Decision {
    let p = dir.join("policy.rego");
    let input = dir.join("input.json");
    std::fs::write(&input, serde_json::to_vec(&c.input).unwrap()).unwrap();
    match RegoPolicy::load(&[&p], query) {
        Err(e) => Decision::Error(e.to_string()),
        Ok(policy) => match policy.evaluate(&c.input) {
            Outcome::Denied(m) if m.is_empty() => Decision::Allow,
            Outcome::Denied(m) => Decision::Deny(m),
            Outcome::Error(e) => Decision::Error(e),
        },
    }
}

fn opa_decision(dir: &Path, query: &str) -> Option<Decision> {
    let r = common::shared_tool(
        "opa-eval",
        &[
            query.as_ref(),
            dir.join("input.json").as_os_str(),
            dir.join("policy.rego").as_os_str(),
        ],
    )?;
    let out: Value = serde_json::from_str(r.stdout.trim())
        .unwrap_or_else(|e| panic!("opa-eval printed no JSON ({e}): {}\n{}", r.stdout, r.stderr));
    Some(if let Some(e) = out.get("error") {
        Decision::Error(e.to_string())
    } else if out.get("undefined").is_some() {
        Decision::Allow
    } else {
        match &out["result"] {
            Value::Array(items) if items.is_empty() => Decision::Allow,
            Value::Array(items) => {
                let mut m: Vec<String> = items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                m.sort();
                m.dedup();
                Decision::Deny(m)
            }
            other => Decision::Error(format!("not a set: {other}")),
        }
    })
}

#[test]
#[ignore = "needs ../shared/tools"]
fn conformance_with_opa() {
    if common::validators().is_none() {
        common::skip("needs ../shared/tools and the validators venv (opa-eval, the real OPA)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cases = cases();
    assert!(cases.len() >= 25, "{} cases", cases.len());
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let dir = tmp.path().join(i.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let (text, query) = if c.policy.starts_with("package") {
            (c.policy.to_string(), "data.model.deployment.deny")
        } else {
            (
                format!("package t\n\nimport rego.v1\n\n{}", c.policy),
                "data.t.deny",
            )
        };
        std::fs::write(dir.join("policy.rego"), &text).unwrap();
        let ours = mlprov_decision(&dir, c, query);
        let opa = opa_decision(&dir, query).expect("validators checked above");
        report.push(format!("{}: mlprov {ours:?} / OPA {opa:?}", c.name));
        let problem = match c.differs {
            Differs::No if !ours.same_as(&opa) => Some("decisions differ".to_string()),
            Differs::Stricter(why) if ours.same_as(&opa) || !ours.stricter_than(&opa) => {
                Some(format!("documented as stricter in mlprov ({why})"))
            }
            Differs::MessageText(why) => match (&ours, &opa) {
                (Decision::Deny(a), Decision::Deny(b)) if a.len() == b.len() && a != b => None,
                _ => Some(format!("documented as a message difference ({why})")),
            },
            _ => None,
        };
        if let Some(p) = problem {
            failures.push(format!("{}: {p}: mlprov {ours:?}, OPA {opa:?}", c.name));
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Decisions of every kind were compared, not only one.
    let kinds = |f: fn(&str) -> bool| report.iter().filter(|r| f(r)).count();
    assert!(kinds(|r| r.contains("mlprov Allow")) >= 3);
    assert!(kinds(|r| r.contains("mlprov Deny")) >= 15);
    assert!(kinds(|r| r.contains("mlprov Error")) >= 5);
}

/// A model directory and `mlprov verify` on it with one Rego policy.
fn verify_with_policy(env: &TestEnv, policy: &str) -> common::Run {
    let work = env.work();
    std::fs::create_dir_all(work.join("model")).unwrap();
    std::fs::write(work.join("model/weights.bin"), b"weights").unwrap();
    std::fs::write(work.join("evil.rego"), policy).unwrap();
    if !work.join("model/model.sig").exists() {
        env.run(&work, &["keygen", "--no-password"]).ok();
        env.run(&work, &["sign", "model", "--key", "cosign.key"])
            .ok();
    }
    let mut cmd = env.cmd(&work);
    cmd.args([
        "verify",
        "model",
        "--key",
        "cosign.pub",
        "--policy",
        "evil.rego",
        "--policy-query",
        "data.x.deny",
    ]);
    let start = std::time::Instant::now();
    let mut r = common::Run::from(cmd.output().expect("spawn mlprov"));
    // miette wraps long messages: one line, single spaces.
    r.stderr = r
        .stderr
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(60),
        "took {:?}",
        start.elapsed()
    );
    r
}

#[test]
fn nested_arrays_are_refused_before_parsing() {
    // The 186-byte class of issue 19: parse time doubles with every level.
    let env = TestEnv::new();
    let depth = 72;
    let policy = format!(
        "package x\n\ndeny contains m if {{\n m := {}1{}\n}}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    assert_eq!(policy.len(), 186);
    let r = verify_with_policy(&env, &policy).expect_code(2);
    assert!(r.stderr.contains("mlprov::policy::limit"), "{}", r.stderr);
    assert!(
        r.stderr.contains("nested more than 12 deep"),
        "{}",
        r.stderr
    );
    // Objects and sets are nested the same way.
    let policy = format!(
        "package x\n\ndeny contains m if {{ m := {}1{} }}\n",
        "{\"a\":".repeat(40),
        "}".repeat(40)
    );
    let r = verify_with_policy(&env, &policy).expect_code(2);
    assert!(
        r.stderr.contains("nested more than 12 deep"),
        "{}",
        r.stderr
    );
}

#[test]
fn recursive_functions_are_refused_not_a_crash() {
    let env = TestEnv::new();
    // Direct, and through another function and an imported package.
    let direct = "package x\n\nf(n) := y if { y := f(n + 1) }\ndeny contains m if { m := f(0) }\n";
    let r = verify_with_policy(&env, direct).expect_code(2);
    assert!(
        r.stderr.contains("mlprov::policy::recursion"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("data.x.f -> data.x.f"), "{}", r.stderr);
    let mutual = "package x\n\nimport data.x as me\n\nf(n) := g(n)\ng(n) := me.f(n)\ndeny contains m if { m := f(0) }\n";
    let r = verify_with_policy(&env, mutual).expect_code(2);
    assert!(
        r.stderr.contains("data.x.f -> data.x.g -> data.x.f"),
        "{}",
        r.stderr
    );
    // A long chain that is not recursive still cannot overflow the stack.
    let mut chain = String::from("package x\n\n");
    for i in 0..3000 {
        chain.push_str(&format!("r{i} := r{}\n", i + 1));
    }
    chain.push_str("r3000 := 1\ndeny contains m if { m := r0 }\n");
    let r = verify_with_policy(&env, &chain).expect_code(2);
    assert!(
        r.stderr.contains("longer than the limit of 100"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_policy_that_runs_too_long_fails_the_node() {
    let env = TestEnv::new();
    // About 10^10 steps: the evaluation limit (10 s) stops it; the node
    // fails closed with E0407.
    let slow = "package x\n\ndeny contains m if {\n  input.artifact\n  n := count([1 | some a in numbers.range(1, 100000); some b in numbers.range(1, 100000)])\n  m := sprintf(\"%v\", [n])\n}\n";
    let r = verify_with_policy(&env, slow).expect_code(1);
    assert!(r.stdout.contains("E0407"), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("limit of 10 s"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
}
