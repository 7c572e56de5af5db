//! The OAuth authorization server and OpenID provider (server only): its rules and its store,
//! apart from HTTP. Its HTTP edge is `server::oauth` (token, introspection, revocation, JWKS,
//! metadata), `server::authorize` (authorization endpoint, userinfo) and `server::logout`,
//! which parse the request and write the answer; client secrets are checked by
//! `secrets::verify`. The domain has no `service.rs`: its store code is split by grant.
//!
//! This file: the token endpoint's request, answer and errors (RFC 6749 §5).
//!
//! - `access`: checking its own tokens, for the admin API (`/api/v1`).
//! - `authorize`: the authorization request's rules (PKCE, redirect URIs, scopes, prompt);
//!   `flow`: its steps (the person, consent, the code); `pages`: the HTML people see.
//! - `grant`: codes, refresh tokens and their families in the store; `person_token`: the
//!   authorization-code and refresh-token grants; `userinfo`: the userinfo answer and the
//!   `id_token_hint` of logout.
//! - `token`: client authentication, and issuing an access token for the client-credentials
//!   grant (RFC 6749 §4.4).
//! - `introspect`: token introspection (RFC 7662) and revocation (RFC 7009), with the list of
//!   revoked tokens.
//! - `keys`: the Ed25519 signing keys (in the database, so that every replica signs with the
//!   same key), the JWS, and the JWKS; `id_keys`: the RS256 keys of ID tokens.
//! - `limits`: the failure limits of client authentication, and the aggregated audit of failures.
//! - `metadata`: `scopes_supported` of the metadata document, read at most every few seconds.

pub mod access;
pub mod authorize;
pub mod flow;
pub mod grant;
pub mod id_keys;
pub mod introspect;
pub mod keys;
pub mod limits;
pub mod metadata;
pub mod pages;
pub mod person_token;
pub mod refresh;
pub mod token;
pub mod userinfo;

use serde::Serialize;

/// A parsed token request, as the handler hands it over.
#[derive(Default)]
pub struct TokenRequest {
    pub client_id: String,
    /// CAUTION: the presented secret. Never logged, never stored.
    pub client_secret: String,
    pub basic: bool,
    pub scope: Option<String>,
    pub grant: Grant,
}

impl std::fmt::Debug for TokenRequest {
    // CAUTION: never the secret, the code or the refresh token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("client_id", &self.client_id)
            .field("basic", &self.basic)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// The grant of a token request, with what each one needs.
#[derive(Default)]
pub enum Grant {
    #[default]
    ClientCredentials,
    /// RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.5).
    AuthorizationCode {
        /// CAUTION: the code. Never logged, never stored.
        code: String,
        redirect_uri: String,
        code_verifier: String,
    },
    /// RFC 6749 §6.
    RefreshToken {
        /// CAUTION: the refresh token. Never logged, never stored.
        refresh_token: String,
    },
}

/// The errors of RFC 6749 §5.2, plus throttling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    InvalidRequest(&'static str),
    /// An `invalid_request` refused before it is read: 413.
    TooLarge,
    /// An `invalid_request` with another method than POST: 405.
    MethodNotAllowed,
    /// Client authentication failed. One answer for every cause.
    InvalidClient {
        basic: bool,
    },
    UnauthorizedClient,
    /// A code or refresh token that is unknown, used, expired, revoked, or not this client's,
    /// or a PKCE verifier that does not match (RFC 6749 §5.2). The reason is for the log only.
    InvalidGrant(&'static str),
    /// An authenticated client without `clavis:introspect` at the introspection endpoint.
    NotIntrospector,
    UnsupportedGrantType,
    InvalidScope,
    Throttled {
        retry_after_secs: u64,
    },
    Server,
}

impl TokenError {
    pub fn status(&self) -> u16 {
        match self {
            TokenError::InvalidClient { .. } => 401,
            TokenError::MethodNotAllowed => 405,
            TokenError::TooLarge => 413,
            TokenError::Throttled { .. } => 429,
            TokenError::Server => 500,
            _ => 400,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            TokenError::InvalidRequest(_) | TokenError::TooLarge | TokenError::MethodNotAllowed => {
                "invalid_request"
            }
            TokenError::InvalidClient { .. } => "invalid_client",
            TokenError::UnauthorizedClient | TokenError::NotIntrospector => "unauthorized_client",
            TokenError::UnsupportedGrantType => "unsupported_grant_type",
            TokenError::InvalidGrant(_) => "invalid_grant",
            TokenError::InvalidScope => "invalid_scope",
            TokenError::Throttled { .. } => "temporarily_unavailable",
            TokenError::Server => "server_error",
        }
    }

    pub fn description(&self) -> &'static str {
        match self {
            TokenError::InvalidRequest(why) => why,
            TokenError::TooLarge => "The request body is too large.",
            TokenError::MethodNotAllowed => "This endpoint accepts POST only.",
            TokenError::InvalidClient { .. } => "Client authentication failed.",
            TokenError::UnauthorizedClient => "This client may not use this grant type.",
            TokenError::InvalidGrant(_) => {
                "The code or refresh token is invalid, expired, used or revoked, or not this client's."
            }
            TokenError::NotIntrospector => {
                "This client may not introspect tokens: that needs the scope clavis:introspect."
            }
            TokenError::UnsupportedGrantType => {
                "Supported grants: client_credentials, authorization_code and refresh_token."
            }
            TokenError::InvalidScope => "The requested scope is not allowed for this client.",
            TokenError::Throttled { .. } => "Too many failed client authentications. Retry later.",
            TokenError::Server => "The server could not issue a token. Retry later.",
        }
    }
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    /// CAUTION: in this one answer only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_follow_rfc_6749() {
        assert_eq!(TokenError::InvalidClient { basic: true }.status(), 401);
        assert_eq!(
            TokenError::InvalidClient { basic: false }.code(),
            "invalid_client"
        );
        assert_eq!(TokenError::UnsupportedGrantType.status(), 400);
        assert_eq!(TokenError::InvalidScope.code(), "invalid_scope");
        assert_eq!(
            TokenError::Throttled {
                retry_after_secs: 3
            }
            .status(),
            429
        );
    }
}
