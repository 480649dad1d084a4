//! OIDC identity tokens for keyless signing: given explicitly, the ambient
//! GitHub Actions token, or the interactive browser flow.
//!
//! mlprov does not verify the token (Fulcio does); it reads the unverified
//! claims only to tell the user who they are about to sign as.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

/// The audience Fulcio expects.
pub const AUDIENCE: &str = "sigstore";

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum OidcError {
    #[error("the identity token is not a JWT: {0}")]
    #[diagnostic(
        code(mlprov::keyless::token),
        help("pass the raw OIDC ID token (three base64url parts separated by dots)")
    )]
    Malformed(String),
    #[error("the identity token expired at {0}")]
    #[diagnostic(
        code("mlprov::keyless::token-expired"),
        help("get a fresh token; GitHub Actions tokens are requested anew on each run")
    )]
    Expired(String),
    #[error("cannot get the GitHub Actions identity token from ACTIONS_ID_TOKEN_REQUEST_URL: {0}")]
    #[diagnostic(
        code("mlprov::keyless::github-token"),
        help("give the job `permissions: id-token: write`")
    )]
    GitHubActions(String),
    #[error("the browser sign-in failed: {0}")]
    #[diagnostic(
        code(mlprov::keyless::browser),
        help("pass --identity-token or set SIGSTORE_ID_TOKEN instead")
    )]
    Browser(String),
}

#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    email: Option<String>,
    exp: Option<i64>,
}

/// A raw token with what it claims about itself (unverified).
#[derive(Clone)]
pub struct IdentityToken {
    pub raw: String,
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub expires: Option<i64>,
}

impl std::fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityToken")
            .field("issuer", &self.issuer)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl IdentityToken {
    pub fn parse(raw: &str) -> Result<Self, OidcError> {
        let raw = raw.trim();
        let parts: Vec<&str> = raw.split('.').collect();
        if parts.len() != 3 {
            return Err(OidcError::Malformed(format!(
                "{} dot-separated parts, not 3",
                parts.len()
            )));
        }
        let claims = URL_SAFE_NO_PAD
            .decode(parts[1].trim_end_matches('='))
            .map_err(|e| OidcError::Malformed(format!("claims are not base64url: {e}")))?;
        let c: Claims = serde_json::from_slice(&claims)
            .map_err(|e| OidcError::Malformed(format!("claims are not JSON: {e}")))?;
        let issuer = c
            .iss
            .ok_or_else(|| OidcError::Malformed("no `iss` claim".into()))?;
        let subject = c
            .sub
            .ok_or_else(|| OidcError::Malformed("no `sub` claim".into()))?;
        Ok(Self {
            raw: raw.to_string(),
            issuer,
            subject,
            email: c.email,
            expires: c.exp,
        })
    }

    /// Refuse a token that has already expired (`now` in Unix seconds).
    pub fn check_fresh(&self, now: i64) -> Result<(), OidcError> {
        match self.expires {
            Some(exp) if exp <= now => Err(OidcError::Expired(crate::sign::trust::rfc3339(exp))),
            _ => Ok(()),
        }
    }

    /// Who the certificate will name: the email if the token has one,
    /// else the subject.
    pub fn who(&self) -> &str {
        self.email.as_deref().unwrap_or(&self.subject)
    }
}

/// The ambient GitHub Actions token: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=sigstore`
/// with `Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
pub fn github_actions(request_url: &str, request_token: &str) -> Result<String, OidcError> {
    let mut url = url::Url::parse(request_url)
        .map_err(|e| OidcError::GitHubActions(format!("not a URL: {e}")))?;
    url.query_pairs_mut().append_pair("audience", AUDIENCE);
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| OidcError::GitHubActions(e.to_string()))?;
    let resp = client
        .get(url)
        .bearer_auth(request_token)
        .header("Accept", "application/json")
        .send()
        .map_err(|e| OidcError::GitHubActions(e.to_string()))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(OidcError::GitHubActions(format!("HTTP {status}")));
    }
    #[derive(Deserialize)]
    struct Answer {
        value: String,
    }
    let a: Answer = resp
        .json()
        .map_err(|e| OidcError::GitHubActions(format!("unexpected answer: {e}")))?;
    Ok(a.value)
}

/// The interactive flow: open the issuer's sign-in page in a browser and
/// receive the code on a local redirect (OAuth 2.0 with PKCE, through the
/// `sigstore` crate).
pub fn browser(issuer: &str, client_id: &str, on_url: &dyn Fn(&str)) -> Result<String, OidcError> {
    use sigstore::oauth::openidflow::{OpenIDAuthorize, RedirectListener};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| OidcError::Browser(format!("no local port for the redirect: {e}")))?
        .port();
    let redirect = format!("http://localhost:{port}");
    let (auth_url, client, nonce, verifier) =
        OpenIDAuthorize::new(client_id, "", issuer, &redirect)
            .auth_url()
            .map_err(|e| OidcError::Browser(format!("{issuer}: {e}")))?;
    on_url(auth_url.as_str());
    // A failure to start a browser is not fatal: the URL was shown.
    let _ = webbrowser::open(auth_url.as_str());
    let (_, token) = RedirectListener::new(&format!("127.0.0.1:{port}"), client, nonce, verifier)
        .redirect_listener()
        .map_err(|e| OidcError::Browser(e.to_string()))?;
    Ok(token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn claims_are_read() {
        let t = IdentityToken::parse(&jwt(
            r#"{"iss":"https://token.actions.githubusercontent.com","sub":"repo:a/b:ref:refs/heads/main","aud":"sigstore","exp":100}"#,
        ))
        .unwrap();
        assert_eq!(t.issuer, "https://token.actions.githubusercontent.com");
        assert_eq!(t.who(), "repo:a/b:ref:refs/heads/main");
        assert!(t.check_fresh(50).is_ok());
        assert!(matches!(t.check_fresh(100), Err(OidcError::Expired(_))));
        let t = IdentityToken::parse(&jwt(r#"{"iss":"i","sub":"s","email":"a@b.c"}"#)).unwrap();
        assert_eq!(t.who(), "a@b.c");
        assert!(IdentityToken::parse("a.b").is_err());
        assert!(IdentityToken::parse(&jwt(r#"{"sub":"s"}"#)).is_err());
        assert!(IdentityToken::parse("a.!!.c").is_err());
    }
}
