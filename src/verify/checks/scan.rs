//! The scan under `formats`: the node's bytes, when they are at hand, are
//! scanned again (an input's always; the verified artifact's own when the
//! policy has `formats` rules), and every verified scan attestation's
//! recorded kinds and findings are re-evaluated under this policy, so a
//! producer's lenient policy does not carry over (`E0402`). A kind or code
//! this build does not know fails.

use crate::intoto::PREDICATE_SCAN;
use crate::scan::{self, Kind, PredicateFile, ScanPolicy, ScanPredicate};
use crate::verify::checks::{Facts, Node};
use crate::verify::code::Code;
use crate::verify::model::ScanCheck;
use crate::verify::node::{Attestation, Finding, Status};

/// Whether the bytes at hand are scanned again.
pub fn wants_bytes(is_root: bool, policy: &ScanPolicy) -> bool {
    !is_root || !policy.deny.is_empty() || !policy.allow.is_empty()
}

pub fn check(
    node: &Node<'_>,
    atts: &[Attestation],
    facts: &mut Facts,
    findings: &mut Vec<Finding>,
) {
    let policy = &node.policy.scan;
    if let Some(report) = node.rescan {
        match report {
            Ok(report) => {
                let v = report.verdict(policy);
                facts.scan = Some(ScanCheck::Rescanned {
                    files: report.files.len(),
                });
                for x in &v.violations {
                    findings.push(node.finding(
                        Code::ScanDenied,
                        format!("{}: {} (re-scanned)", x.file, x.reason),
                    ));
                }
            }
            Err(e) => findings.push(node.finding(Code::ScanDenied, format!("cannot scan: {e}"))),
        }
    }
    for a in atts.iter().filter(|a| a.status == Status::Verified) {
        let Some(st) = a
            .statement
            .as_ref()
            .filter(|s| s.predicate_type == PREDICATE_SCAN)
        else {
            continue;
        };
        match serde_json::from_value::<ScanPredicate>(st.predicate.clone()) {
            Ok(pred) => {
                if facts.scan.is_none() {
                    facts.scan = Some(ScanCheck::Attested {
                        files: pred.files.len(),
                    });
                }
                for m in reevaluate_scan(&pred, policy) {
                    findings.push(node.finding(Code::ScanDenied, m));
                }
            }
            Err(e) => findings.push(node.finding(
                Code::ScanDenied,
                format!("the scan attestation cannot be read: {e}"),
            )),
        }
    }
}

/// Re-apply a formats policy to a scan predicate's recorded kinds and
/// findings. A finding code or kind this build does not know fails.
pub fn reevaluate_scan(pred: &ScanPredicate, policy: &ScanPolicy) -> Vec<String> {
    let mut out = Vec::new();
    if pred.verdict != "pass" && pred.verdict != "fail" {
        out.push(format!(
            "the scan verdict `{}` is neither pass nor fail",
            pred.verdict
        ));
    }
    for f in &pred.files {
        out.extend(reevaluate_file(f, policy));
    }
    out
}

fn reevaluate_file(f: &PredicateFile, policy: &ScanPolicy) -> Vec<String> {
    let mut out = Vec::new();
    for k in &f.kinds {
        match Kind::parse(k) {
            Some(kind) if policy.denies(kind) => out.push(format!(
                "{}: {} file and `{kind}` is denied by formats.deny (attested scan)",
                f.path, f.format
            )),
            Some(_) => {}
            None => out.push(format!(
                "{}: unknown format kind `{k}` in the scan attestation",
                f.path
            )),
        }
    }
    for x in &f.findings {
        let Some(code) = scan::Code::from_id(&x.code) else {
            out.push(format!(
                "{}: unknown scanner finding {} ({}) in the scan attestation",
                f.path, x.code, x.name
            ));
            continue;
        };
        let finding = scan::Finding {
            member: x.member.clone(),
            offset: x.offset,
            code,
            subject: x.subject.clone(),
            reason: x.reason.clone(),
        };
        if policy.outcome(&finding) == scan::Outcome::Fail {
            out.push(format!(
                "{}: {} {}: {} (attested scan)",
                f.path,
                code.id(),
                code.name(),
                x.reason
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::checks::signature;
    use crate::verify::checks::testing::*;

    #[test]
    fn attested_scans_are_reevaluated() {
        let report = scan::ScanReport {
            files: vec![scan::scan_bytes(b"cos\nsystem\n(S'x'\ntR.", "a.pkl")],
            bytes_read: 0,
        };
        // The producer allowed the finding; the verifier does not.
        let producer = ScanPolicy {
            deny: vec![],
            allow: vec!["pickle-global:os.system".into()],
        };
        let pred = report.predicate(&producer);
        assert_eq!(pred.verdict, "pass");
        let msgs = reevaluate_scan(&pred, &ScanPolicy::default());
        assert!(msgs.iter().any(|m| m.contains("S0101")), "{msgs:?}");
        assert!(
            reevaluate_scan(&pred, &producer)
                .iter()
                .all(|m| !m.contains("S0101"))
        );
        let deny = ScanPolicy {
            deny: vec!["pickle".into()],
            allow: vec!["pickle-global:os.system".into()],
        };
        assert!(
            reevaluate_scan(&pred, &deny)
                .iter()
                .any(|m| m.contains("denied"))
        );
        let mut bad = pred.clone();
        bad.files[0].findings[0].code = "S9999".into();
        assert!(
            reevaluate_scan(&bad, &producer)
                .iter()
                .any(|m| m.contains("unknown"))
        );
    }

    #[test]
    fn the_check_on_a_node() {
        let w = World::new();
        let d = digest("a");
        let evil = scan::ScanReport {
            files: vec![scan::scan_bytes(b"cos\nsystem\n(S'x'\ntR.", "a.pkl")],
            bytes_read: 0,
        };
        let lenient = ScanPolicy {
            deny: vec![],
            allow: vec!["pickle-global:os.system".into()],
        };
        let attested = w.bundle(
            &w.platform,
            &scan_statement_of(&d, &evil.predicate(&lenient)),
        );
        let g = gathered(d, vec![found(&attested)]);
        let policy = w.policy("");
        let rules = policy.context(None, "artifact", &[]);
        let mut node = node_in(&g, &rules, &policy);
        let mut f = Vec::new();
        let atts = signature::check(&node, &mut f);
        let mut facts = Facts::default();
        check(&node, &atts, &mut facts, &mut f);
        assert_eq!(codes(&f), ["E0402"]);
        assert_eq!(facts.scan, Some(ScanCheck::Attested { files: 1 }));
        // The bytes at hand, scanned again.
        let rescan = Ok(evil);
        node.rescan = Some(&rescan);
        let (mut facts, mut f) = (Facts::default(), Vec::new());
        check(&node, &[], &mut facts, &mut f);
        assert_eq!(codes(&f), ["E0402"]);
        assert!(f[0].message.ends_with("(re-scanned)"), "{}", f[0].message);
        assert_eq!(facts.scan, Some(ScanCheck::Rescanned { files: 1 }));
        assert!(wants_bytes(false, &ScanPolicy::default()));
        assert!(!wants_bytes(true, &ScanPolicy::default()));
        assert!(wants_bytes(true, &lenient));
    }
}
