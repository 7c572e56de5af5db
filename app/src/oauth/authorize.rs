//! The authorization request (RFC 6749 §4.1.1, OAuth 2.1, OpenID Connect Core §3.1.2.1),
//! checked before anyone is asked to sign in. Pure: the caller looks up the client and hands
//! over the query's pairs as sent.
//!
//! Two kinds of refusal, as RFC 6749 §4.1.2.1 requires:
//! - `Fatal`: the client or the redirect URI cannot be trusted (unknown or disabled client, a
//!   redirect URI that is not registered). The person gets an error page with status 400,
//!   never a redirect, so that Clavis cannot be used as an open redirector.
//! - `Redirect`: everything else. The error goes back to the client's redirect URI with
//!   `error`, `error_description`, `state` and `iss` (RFC 9207).
//!
//! The steps after these checks (the person, consent, the code) are `flow`; the PKCE check of
//! the code exchange is `verifier_matches`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::clients::kind::ClientType;
use crate::clients::rules::loopback;
use crate::clients::ClientView;

/// The scopes a person can grant an app.
pub const PERSON_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// What `prompt` asks for (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// `none`: no page may be shown; without a session the answer is `login_required`.
    pub none: bool,
    /// `login`: sign in again even with a session.
    pub login: bool,
    /// `consent`: ask for consent even for a first-party client.
    pub consent: bool,
}

/// A checked authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub client_id: String,
    /// As the client sent it: the token request must send the same string.
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    /// The S256 challenge: BASE64URL(SHA-256(code_verifier)).
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub prompt: Prompt,
    /// Seconds; a sign-in older than this is asked again.
    pub max_age: Option<u64>,
}

impl AuthorizeRequest {
    /// A digest of everything that makes this request itself: a sign-in on its page is
    /// recorded with it, so that `prompt=login` is met by that sign-in and no other.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        let parts = [
            self.client_id.as_str(),
            self.redirect_uri.as_str(),
            &self.scopes.join(" "),
            self.state.as_deref().unwrap_or("\u{0}"),
            &self.code_challenge,
            self.nonce.as_deref().unwrap_or("\u{0}"),
            &format!("{:?}{:?}", self.prompt, self.max_age),
        ];
        for part in parts {
            // Length-prefixed, so that no two different requests join into the same bytes.
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        URL_SAFE_NO_PAD.encode(h.finalize())
    }
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// An error page (400), never a redirect.
    Fatal(&'static str),
    /// Back to the client, at `redirect_uri`, with `state` as sent.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: &'static str,
    },
}

/// Whether `sent` is one of `registered`: the exact string, or, for `http` URIs on a loopback IP
/// literal, the same URI on another port (RFC 8252 §7.3: native apps listen on a port the system
/// gives them). `localhost` gets no such freedom: §7.3 grants it to the IP literals only, and
/// §8.3 advises against the name, which a hosts file or resolver may send elsewhere.
pub fn redirect_uri_registered(registered: &[String], sent: &str) -> bool {
    if registered.iter().any(|r| r == sent) {
        return true;
    }
    let Ok(s) = url::Url::parse(sent) else {
        return false;
    };
    let is_loopback = |u: &url::Url| {
        u.scheme() == "http"
            && matches!(u.host(), Some(h @ (url::Host::Ipv4(_) | url::Host::Ipv6(_))) if loopback(&h))
    };
    if !is_loopback(&s) {
        return false;
    }
    registered
        .iter()
        .filter_map(|r| url::Url::parse(r).ok())
        .any(|r| {
            is_loopback(&r)
                && r.host() == s.host()
                && r.path() == s.path()
                && r.query() == s.query()
                && r.fragment().is_none()
                && s.fragment().is_none()
                && r.username().is_empty()
                && s.username().is_empty()
                && s.password().is_none()
        })
}

/// `uri` with the answer's parameters added to its query (RFC 6749 §4.1.2: any query it has
/// is kept).
pub fn redirect_with(uri: &str, params: &[(&str, &str)]) -> Option<String> {
    let mut u = url::Url::parse(uri).ok()?;
    // Nothing to add: the URI as it is (an empty query would leave a bare `?`).
    if !params.is_empty() {
        let mut q = u.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    Some(u.into())
}

/// The value of `name`, if sent once; `Err` if sent more than once (RFC 6749 §3.1).
fn one<'a>(pairs: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, ()> {
    let mut found = pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str());
    let first = found.next();
    if found.next().is_some() {
        return Err(());
    }
    Ok(first.filter(|v| !v.is_empty()))
}

/// A PKCE code challenge or verifier: 43–128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1).
pub fn is_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// Checks an authorization request. `client` is the client named by `client_id`, if any.
pub fn check(
    pairs: &[(String, String)],
    client: Option<&ClientView>,
) -> Result<AuthorizeRequest, AuthorizeError> {
    use AuthorizeError::Fatal;
    let client_id = one(pairs, "client_id")
        .map_err(|_| Fatal("client_id is sent more than once."))?
        .ok_or(Fatal("The request names no client (client_id is missing)."))?;
    let client = client
        .filter(|c| c.client_id == client_id)
        .ok_or(Fatal("No such client is registered here."))?;
    if !client.enabled {
        return Err(Fatal("This app is disabled: nobody can sign in to it now."));
    }
    if client.client_type == ClientType::ClientCredentials {
        return Err(Fatal(
            "This client is for machines: no person signs in to it.",
        ));
    }
    let redirect_uri = one(pairs, "redirect_uri")
        .map_err(|_| Fatal("redirect_uri is sent more than once."))?
        .ok_or(Fatal("The request has no redirect_uri."))?;
    if !redirect_uri_registered(&client.redirect_uris, redirect_uri) {
        return Err(Fatal("The redirect_uri is not one this app registered."));
    }
    // From here on, errors go back to the app.
    let state = one(pairs, "state").ok().flatten().map(str::to_string);
    let back = |error: &'static str, description: &'static str| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.to_string(),
        state: state.clone(),
        error,
        description,
    };
    let invalid = |d| back("invalid_request", d);
    let dup = |_| invalid("A parameter is sent more than once.");
    if one(pairs, "state").is_err() {
        return Err(invalid("state is sent more than once."));
    }
    if state.as_ref().is_some_and(|s| s.len() > 1024) {
        return Err(invalid("state is longer than 1024 characters."));
    }
    if one(pairs, "request").map_err(dup)?.is_some() {
        return Err(back(
            "request_not_supported",
            "Request objects are not supported.",
        ));
    }
    if one(pairs, "request_uri").map_err(dup)?.is_some() {
        return Err(back(
            "request_uri_not_supported",
            "request_uri is not supported.",
        ));
    }
    match one(pairs, "response_type").map_err(dup)? {
        Some("code") => {}
        None => return Err(invalid("response_type is missing: it must be code.")),
        Some(_) => {
            return Err(back(
                "unsupported_response_type",
                "Only response_type=code is supported.",
            ))
        }
    }
    if one(pairs, "response_mode")
        .map_err(dup)?
        .is_some_and(|m| m != "query")
    {
        return Err(invalid("Only response_mode=query is supported."));
    }
    let code_challenge = one(pairs, "code_challenge")
        .map_err(dup)?
        .ok_or_else(|| invalid("code_challenge is missing: PKCE is required for every client."))?;
    match one(pairs, "code_challenge_method").map_err(dup)? {
        Some("S256") => {}
        Some("plain") => return Err(invalid("code_challenge_method=plain is refused: use S256.")),
        _ => return Err(invalid("code_challenge_method must be S256.")),
    }
    if code_challenge.len() != 43 || !is_pkce_string(code_challenge) {
        return Err(invalid(
            "code_challenge must be the 43-character BASE64URL of a SHA-256 hash.",
        ));
    }
    let scope = one(pairs, "scope").map_err(dup)?.unwrap_or("");
    let mut scopes: Vec<String> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !PERSON_SCOPES.contains(&s) {
            return Err(back(
                "invalid_scope",
                "A requested scope is not supported here.",
            ));
        }
        if !scopes.iter().any(|have| have == s) {
            scopes.push(s.to_string());
        }
    }
    if scopes.is_empty() {
        return Err(back("invalid_scope", "Ask for at least the scope openid."));
    }
    let nonce = one(pairs, "nonce").map_err(dup)?.map(str::to_string);
    if nonce.as_ref().is_some_and(|n| n.len() > 512) {
        return Err(invalid("nonce is longer than 512 characters."));
    }
    let mut prompt = Prompt::default();
    for p in one(pairs, "prompt")
        .map_err(dup)?
        .unwrap_or("")
        .split(' ')
        .filter(|p| !p.is_empty())
    {
        match p {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            _ => return Err(invalid("prompt may hold none, login and consent only.")),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(invalid(
            "prompt=none cannot be combined with another value.",
        ));
    }
    let max_age = match one(pairs, "max_age").map_err(dup)? {
        None => None,
        Some(v) => Some(
            v.parse::<u64>()
                .map_err(|_| invalid("max_age must be a whole number of seconds."))?,
        ),
    };
    Ok(AuthorizeRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_string(),
        scopes,
        state,
        code_challenge: code_challenge.to_string(),
        nonce,
        prompt,
        max_age,
    })
}

/// Whether `verifier` is the PKCE verifier of `challenge` (S256, RFC 7636 §4.6).
pub fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    if !is_pkce_string(verifier) {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn the_s256_verifier_of_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verifier_matches(verifier, challenge));
        assert!(!verifier_matches(challenge, challenge));
        assert!(!verifier_matches("short", challenge));
        assert!(!verifier_matches("", challenge));
    }

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    type Pairs = Vec<(String, String)>;

    /// A client of `kind` named "Shop", with three redirect URIs (tests of this crate).
    pub(crate) fn client(kind: ClientType) -> ClientView {
        ClientView {
            client_id: "c1".into(),
            name: "Shop".into(),
            description: String::new(),
            client_type: kind,
            redirect_uris: vec![
                "https://shop.example/cb".into(),
                "http://127.0.0.1:8080/cb".into(),
                "https://shop.example/cb?tenant=a".into(),
            ],
            post_logout_redirect_uris: Vec::new(),
            first_party: false,
            scopes: Vec::new(),
            audience: None,
            enabled: true,
            application: None,
            created_at: 0,
            created_by: "root".into(),
            updated_at: 0,
            updated_by: "root".into(),
            secret_lifetime: None,
            last_used_at: None,
        }
    }

    fn good() -> Vec<(String, String)> {
        [
            ("response_type", "code"),
            ("client_id", "c1"),
            ("redirect_uri", "https://shop.example/cb"),
            ("scope", "openid profile"),
            ("state", "s1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("nonce", "n1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// `good()` with `name` set to `value` (`None`: left out).
    fn with(name: &str, value: Option<&str>) -> Vec<(String, String)> {
        let mut p: Vec<_> = good().into_iter().filter(|(k, _)| k != name).collect();
        if let Some(v) = value {
            p.push((name.to_string(), v.to_string()));
        }
        p
    }

    #[test]
    fn a_good_request_is_read_whole() {
        let r = check(&good(), Some(&client(ClientType::PublicPkce))).unwrap();
        assert_eq!(r.scopes, ["openid", "profile"]);
        assert_eq!(
            (r.state.as_deref(), r.nonce.as_deref()),
            (Some("s1"), Some("n1"))
        );
        assert_eq!(r.code_challenge, CHALLENGE);
        assert_eq!(r.prompt, Prompt::default());
        let r = check(
            &with("prompt", Some("login consent")),
            Some(&client(ClientType::ConfidentialPkce)),
        )
        .unwrap();
        assert!(r.prompt.login && r.prompt.consent && !r.prompt.none);
        assert_eq!(
            check(
                &with("max_age", Some("300")),
                Some(&client(ClientType::PublicPkce))
            )
            .unwrap()
            .max_age,
            Some(300)
        );
    }

    #[test]
    fn an_untrusted_client_or_redirect_uri_is_an_error_page_never_a_redirect() {
        let spa = client(ClientType::PublicPkce);
        let disabled = ClientView {
            enabled: false,
            ..spa.clone()
        };
        let machine = client(ClientType::ClientCredentials);
        let cases: Vec<(Pairs, Option<&ClientView>)> = vec![
            (with("client_id", None), Some(&spa)),
            (good(), None),
            (good(), Some(&disabled)),
            (good(), Some(&machine)),
            (with("redirect_uri", None), Some(&spa)),
            (
                with("redirect_uri", Some("https://evil.example/cb")),
                Some(&spa),
            ),
            (
                with("redirect_uri", Some("https://shop.example/cb/")),
                Some(&spa),
            ),
            (
                with("redirect_uri", Some("https://shop.example/cb?tenant=b")),
                Some(&spa),
            ),
            (
                with("redirect_uri", Some("HTTPS://shop.example/cb")),
                Some(&spa),
            ),
            // Only loopback http may change its port.
            (
                with("redirect_uri", Some("https://shop.example:8443/cb")),
                Some(&spa),
            ),
            (
                with("redirect_uri", Some("http://127.0.0.1:9000/other")),
                Some(&spa),
            ),
            (
                with("redirect_uri", Some("http://localhost:9000/cb")),
                Some(&spa),
            ),
            (
                [good(), vec![("client_id".into(), "c2".into())]].concat(),
                Some(&spa),
            ),
            (
                [
                    good(),
                    vec![("redirect_uri".into(), "https://shop.example/cb".into())],
                ]
                .concat(),
                Some(&spa),
            ),
        ];
        for (i, (pairs, c)) in cases.iter().enumerate() {
            let e = check(pairs, *c).unwrap_err();
            assert!(matches!(e, AuthorizeError::Fatal(_)), "case {i}: {e:?}");
        }
    }

    #[test]
    fn a_loopback_redirect_uri_may_change_its_port_only() {
        let spa = client(ClientType::PublicPkce);
        for ok in [
            "http://127.0.0.1:51000/cb",
            "http://127.0.0.1/cb",
            "http://127.0.0.1:8080/cb",
        ] {
            assert!(
                check(&with("redirect_uri", Some(ok)), Some(&spa)).is_ok(),
                "{ok}"
            );
        }
        assert!(!redirect_uri_registered(
            &spa.redirect_uris,
            "http://127.0.0.1:51000/cb#x"
        ));
        assert!(!redirect_uri_registered(
            &spa.redirect_uris,
            "http://u@127.0.0.1:51000/cb"
        ));
        // The IPv6 literal has the same freedom; `localhost` has none (RFC 8252 §7.3, §8.3).
        let registered = [
            "http://[::1]:8000/cb".to_string(),
            "http://localhost:8000/cb".to_string(),
        ];
        assert!(redirect_uri_registered(
            &registered,
            "http://[::1]:51000/cb"
        ));
        assert!(redirect_uri_registered(
            &registered,
            "http://localhost:8000/cb"
        ));
        assert!(!redirect_uri_registered(
            &registered,
            "http://localhost:51000/cb"
        ));
    }

    #[test]
    fn other_errors_go_back_to_the_app_with_the_state() {
        let spa = client(ClientType::PublicPkce);
        let cases: Vec<(Pairs, &str)> = vec![
            (with("response_type", None), "invalid_request"),
            (
                with("response_type", Some("token")),
                "unsupported_response_type",
            ),
            (with("code_challenge", None), "invalid_request"),
            (with("code_challenge_method", None), "invalid_request"),
            (
                with("code_challenge_method", Some("plain")),
                "invalid_request",
            ),
            (with("code_challenge", Some("too-short")), "invalid_request"),
            (
                with("code_challenge", Some(&format!("{}=", &CHALLENGE[..42]))),
                "invalid_request",
            ),
            (with("scope", None), "invalid_scope"),
            (with("scope", Some("openid clavis:admin")), "invalid_scope"),
            (with("prompt", Some("none login")), "invalid_request"),
            (with("prompt", Some("select_account")), "invalid_request"),
            (with("max_age", Some("-1")), "invalid_request"),
            (with("response_mode", Some("fragment")), "invalid_request"),
            (with("request", Some("eyJ")), "request_not_supported"),
            (
                with("request_uri", Some("https://x")),
                "request_uri_not_supported",
            ),
            (
                [good(), vec![("scope".into(), "openid".into())]].concat(),
                "invalid_request",
            ),
        ];
        for (i, (pairs, want)) in cases.iter().enumerate() {
            match check(pairs, Some(&spa)).unwrap_err() {
                AuthorizeError::Redirect {
                    redirect_uri,
                    state,
                    error,
                    ..
                } => {
                    assert_eq!(error, *want, "case {i}");
                    assert_eq!(redirect_uri, "https://shop.example/cb", "case {i}");
                    assert_eq!(state.as_deref(), Some("s1"), "case {i}");
                }
                e => panic!("case {i}: {e:?}"),
            }
        }
    }

    #[test]
    fn answers_keep_the_redirect_uri_s_own_query() {
        assert_eq!(
            redirect_with(
                "https://shop.example/cb?tenant=a",
                &[("code", "x y"), ("state", "s&1")]
            )
            .unwrap(),
            "https://shop.example/cb?tenant=a&code=x+y&state=s%261"
        );
    }
}
