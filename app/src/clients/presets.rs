//! Architecture presets: common shapes of software, each proposing one client per artifact with
//! its type and the reason for it. The person reviews and edits them; the server creates the
//! application and all its clients in one transaction.

use super::kind::ClientType;

/// One proposed client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposed {
    /// What the artifact is, e.g. "Single-page app".
    pub artifact: &'static str,
    pub name: &'static str,
    pub client_type: ClientType,
    pub why: &'static str,
    pub redirect_uris: &'static str,
    pub scopes: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    pub key: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub clients: Vec<Proposed>,
}

pub fn all() -> Vec<Preset> {
    vec![
        Preset {
            key: "ssr-spa-api",
            title: "Server-rendered app with SPA and API",
            summary: "Pages rendered on a server host a single-page app, which calls your API.",
            clients: vec![
                Proposed {
                    artifact: "Server-rendered web app",
                    name: "Web app",
                    client_type: ClientType::ConfidentialPkce,
                    why: "People sign in through it, and it runs on your server, where a secret stays secret.",
                    redirect_uris: "https://app.example.com/auth/callback",
                    scopes: "",
                },
                Proposed {
                    artifact: "Single-page app",
                    name: "Single-page app",
                    client_type: ClientType::PublicPkce,
                    why: "People sign in through it, but its code runs in their browser, so it gets no secret.",
                    redirect_uris: "https://app.example.com/spa/callback",
                    scopes: "",
                },
                Proposed {
                    artifact: "API",
                    name: "API",
                    client_type: ClientType::ClientCredentials,
                    why: "No person signs in to the API itself; it authenticates as itself when it calls other services.",
                    redirect_uris: "",
                    scopes: "api:call",
                },
            ],
        },
        Preset {
            key: "bff",
            title: "Backend-for-frontend",
            summary: "People sign in to a server that keeps their tokens; the SPA it serves holds none.",
            clients: vec![
                Proposed {
                    artifact: "Backend-for-frontend",
                    name: "Backend-for-frontend",
                    client_type: ClientType::ConfidentialPkce,
                    why: "People sign in through it, and it runs on your server, so it can keep a secret and the tokens.",
                    redirect_uris: "https://app.example.com/bff/callback",
                    scopes: "",
                },
                Proposed {
                    artifact: "API",
                    name: "API",
                    client_type: ClientType::ClientCredentials,
                    why: "No person signs in to the API; it authenticates as itself when it calls other services.",
                    redirect_uris: "",
                    scopes: "api:call",
                },
            ],
        },
        Preset {
            key: "worker",
            title: "Worker or command-line tool",
            summary: "A background job or console program that calls an API with no person present.",
            clients: vec![Proposed {
                artifact: "Worker",
                name: "Worker",
                client_type: ClientType::ClientCredentials,
                why: "No person signs in, and it runs on a machine you control, so it authenticates as itself.",
                redirect_uris: "",
                scopes: "jobs:run",
            }],
        },
    ]
}

pub fn find(key: &str) -> Option<Preset> {
    all().into_iter().find(|p| p.key == key)
}

#[cfg(test)]
mod tests {
    #[test]
    fn presets_are_complete() {
        let all = super::all();
        assert_eq!(all.len(), 3);
        for p in &all {
            assert!(!p.clients.is_empty());
            for c in &p.clients {
                assert_eq!(
                    c.redirect_uris.is_empty(),
                    !c.client_type.uses_redirect_uris(),
                    "{}",
                    c.artifact
                );
                assert!(c.why.ends_with('.'));
            }
            assert_eq!(super::find(p.key).as_ref(), Some(p));
        }
    }
}
