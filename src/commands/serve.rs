//! `mlprov serve`: the Kubernetes validating admission webhook. Resolves
//! its settings, loads the TLS material (a file that does not load stops
//! it here, exit 2), then serves admission reviews on tokio until the
//! process is stopped.

use std::sync::Arc;

use miette::{IntoDiagnostic, Result};

use super::Context;
use crate::cli::ServeArgs;
use crate::serve::{gate::Gate, server};
use crate::settings::serve::{self as settings, PolicyVerifier};

pub fn run(cx: &Context, args: ServeArgs) -> Result<()> {
    let s = settings::resolve(&cx.settings, &args)?;
    let tls = server::tls_config(&s.tls_cert, &s.tls_key)?;
    // Verifications report nothing on the terminal: the verdict goes to
    // the API server.
    let mut quiet = cx.printer.clone();
    quiet.quiet = true;
    let verifier = PolicyVerifier::new(&cx.settings, &quiet, &args)?;
    let gate = Arc::new(Gate::new(Arc::new(verifier), s.gate.clone()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("mlprov-serve")
        .build()
        .into_diagnostic()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(s.listen).await.map_err(|e| {
            miette::miette!(
                code = "mlprov::serve::listen",
                help = "pass a free address with --listen (e.g. 0.0.0.0:8443)",
                "cannot listen on {}: {e}",
                s.listen
            )
        })?;
        let addr = listener.local_addr().into_diagnostic()?;
        cx.printer.status(
            "Serving",
            &format!(
                "admission reviews on https://{addr}/validate (GET /healthz, /metrics); deadline {} ms, verdicts cached {} s",
                s.gate.deadline.as_millis(),
                s.gate.cache_ttl.as_secs()
            ),
        );
        server::run(listener, tls, gate, s.max_request_bytes)
            .await
            .into_diagnostic()
    })
}
