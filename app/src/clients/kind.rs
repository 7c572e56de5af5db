//! The three client types, what follows from each, and the guided choice between them.
//!
//! Shared by the server and the browser: the creation form preselects a type from two answers
//! without a round trip.

use serde::{Deserialize, Serialize};

/// How an artifact signs in to the authorization server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientType {
    /// A person signs in (authorization code + PKCE) and the artifact runs where a secret is
    /// safe: a server-rendered web app or a backend-for-frontend.
    ConfidentialPkce,
    /// A person signs in, but the code runs on the person's device (SPA, mobile, desktop, a CLI
    /// on a laptop). Never has a secret.
    PublicPkce,
    /// Machine to machine (API, worker, scheduled job). Has a secret and scopes, no redirects.
    ClientCredentials,
}

impl ClientType {
    pub const ALL: [ClientType; 3] = [
        ClientType::ConfidentialPkce,
        ClientType::PublicPkce,
        ClientType::ClientCredentials,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::ConfidentialPkce => "confidential_pkce",
            ClientType::PublicPkce => "public_pkce",
            ClientType::ClientCredentials => "client_credentials",
        }
    }

    pub fn parse(s: &str) -> Option<ClientType> {
        ClientType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            ClientType::ConfidentialPkce => "Confidential, with PKCE",
            ClientType::PublicPkce => "Public, with PKCE",
            ClientType::ClientCredentials => "Client credentials",
        }
    }

    /// Whether clients of this type hold a client secret.
    pub fn has_secret(self) -> bool {
        !matches!(self, ClientType::PublicPkce)
    }

    /// Whether clients of this type redirect a person back after sign-in.
    pub fn uses_redirect_uris(self) -> bool {
        !matches!(self, ClientType::ClientCredentials)
    }

    /// OAuth grant types the client may use.
    pub fn grant_types(self) -> &'static [&'static str] {
        match self {
            ClientType::ConfidentialPkce | ClientType::PublicPkce => {
                &["authorization_code", "refresh_token"]
            }
            ClientType::ClientCredentials => &["client_credentials"],
        }
    }

    /// How the client authenticates at the token endpoint (RFC 7591 names).
    pub fn token_endpoint_auth_methods(self) -> &'static [&'static str] {
        match self {
            ClientType::PublicPkce => &["none"],
            _ => &["client_secret_basic", "client_secret_post"],
        }
    }

    /// One sentence on what choosing this type means.
    pub fn implication(self) -> &'static str {
        match self {
            ClientType::ConfidentialPkce => {
                "People sign in through it, and it gets a client secret that must stay on the server."
            }
            ClientType::PublicPkce => {
                "People sign in through it, and it gets no secret: anything shipped to a device can be read there."
            }
            ClientType::ClientCredentials => {
                "No person signs in; it gets a client secret and a list of scopes, and no redirect URIs."
            }
        }
    }
}

/// The recommended type for two answers, and why, in one sentence.
///
/// - Does a person sign in through this artifact?
/// - Can the machine that runs it keep a secret?
pub fn recommend(person_signs_in: bool, keeps_secret: bool) -> (ClientType, &'static str) {
    match (person_signs_in, keeps_secret) {
        (true, true) => (
            ClientType::ConfidentialPkce,
            "A person signs in and the code runs where a secret is safe, so use PKCE and a client secret.",
        ),
        (true, false) => (
            ClientType::PublicPkce,
            "A person signs in but the code runs on their device, where a secret would not stay secret, so use PKCE alone.",
        ),
        (false, true) => (
            ClientType::ClientCredentials,
            "No person signs in and the machine can keep a secret, so the client authenticates as itself.",
        ),
        (false, false) => (
            ClientType::ClientCredentials,
            "No person signs in, so only client credentials fit, but its secret needs a machine that can keep it: run this artifact on a server you control.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_answer_combination_has_a_recommendation() {
        let cases = [
            (true, true, ClientType::ConfidentialPkce),
            (true, false, ClientType::PublicPkce),
            (false, true, ClientType::ClientCredentials),
            (false, false, ClientType::ClientCredentials),
        ];
        for (person, secret, want) in cases {
            let (got, why) = recommend(person, secret);
            assert_eq!(got, want, "person={person} secret={secret}");
            assert!(why.ends_with('.') && why.len() > 20);
        }
        // The one combination with no safe type says so.
        assert!(recommend(false, false).1.contains("server you control"));
    }

    #[test]
    fn what_follows_from_each_type() {
        use ClientType::*;
        assert_eq!(PublicPkce.token_endpoint_auth_methods(), ["none"]);
        assert!(!PublicPkce.has_secret());
        assert!(ConfidentialPkce.has_secret() && ClientCredentials.has_secret());
        assert!(ConfidentialPkce.uses_redirect_uris() && PublicPkce.uses_redirect_uris());
        assert!(!ClientCredentials.uses_redirect_uris());
        assert_eq!(ClientCredentials.grant_types(), ["client_credentials"]);
        assert!(ConfidentialPkce
            .grant_types()
            .contains(&"authorization_code"));
        for t in ClientType::ALL {
            assert_eq!(ClientType::parse(t.as_str()), Some(t));
            assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{}\"", t.as_str())
            );
        }
        assert_eq!(ClientType::parse("implicit"), None);
    }
}
