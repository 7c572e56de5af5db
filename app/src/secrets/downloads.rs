//! The files a new secret can be downloaded as: a `.env` first, then JSON and a Kubernetes
//! `Secret` manifest. The dialog (JavaScript) and the one-time page (no JavaScript) offer the
//! same files, as `data:` URLs.

use percent_encoding::utf8_percent_encode;

use super::files::DATA_URL_ESCAPED;
use super::IssuedSecretOnce;

/// A file name made of the client's name: lower-case letters, digits and dashes.
fn slug(s: &IssuedSecretOnce) -> String {
    let mut out = String::new();
    for ch in s.client_name.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        format!("client-{}", s.client_id.get(..8).unwrap_or(&s.client_id))
    } else {
        out.chars().take(50).collect()
    }
}

/// One downloadable form of a secret.
pub struct Download {
    pub label: &'static str,
    pub filename: String,
    pub mime: &'static str,
    pub content: String,
}

impl Download {
    /// The file as a `data:` URL (RFC 2397), every byte but the unreserved ones
    /// percent-encoded.
    pub fn data_url(&self) -> String {
        format!(
            "data:{};charset=utf-8,{}",
            self.mime,
            utf8_percent_encode(&self.content, DATA_URL_ESCAPED)
        )
    }
}

/// The `.env` file first, then JSON and a Kubernetes `Secret` manifest.
/// The expiry as RFC 3339, in UTC to the second.
fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// The `.env` file first, then JSON and a Kubernetes `Secret` manifest. A secret that expires
/// says when in each: a comment, `client_secret_expires_at` (unix seconds, 0 for never, as in
/// RFC 7591) and an annotation.
pub fn downloads(s: &IssuedSecretOnce) -> [Download; 3] {
    let name = slug(s);
    let json = serde_json::json!({
        "client_id": s.client_id,
        "client_secret": s.secret,
        "client_secret_expires_at": s.expires_at.map_or(0, |ms| ms / 1000),
    });
    let (env_note, annotation) = match s.expires_at {
        Some(at) => (
            format!(
                "# CLIENT_SECRET expires at {}: rotate it before then.\n",
                rfc3339(at)
            ),
            format!(
                "  annotations:\n    clavis/client-secret-expires-at: \"{}\"\n",
                rfc3339(at)
            ),
        ),
        None => (String::new(), String::new()),
    };
    [
        Download {
            label: "Download",
            filename: format!("{name}.env"),
            mime: "text/plain",
            content: format!(
                "{env_note}CLIENT_ID={}\nCLIENT_SECRET={}\n",
                s.client_id, s.secret
            ),
        },
        Download {
            label: "JSON",
            filename: format!("{name}.json"),
            mime: "application/json",
            content: format!("{json:#}\n"),
        },
        Download {
            label: "Kubernetes Secret",
            filename: format!("{name}-secret.yaml"),
            mime: "application/yaml",
            content: format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}-oauth-client\n{annotation}type: Opaque\nstringData:\n  CLIENT_ID: \"{}\"\n  CLIENT_SECRET: \"{}\"\n",
                s.client_id, s.secret
            ),
        },
    ]
}

pub const NOT_SHOWN_AGAIN: &str = "Copy or download it now: this secret will not be shown again. \
    Clavis keeps only a one-way hash of it, so nobody can read it later, not even an administrator.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_hold_the_id_and_the_secret() {
        let s = IssuedSecretOnce {
            client_id: "0123456789abcdef0123456789abcdef".into(),
            client_name: "Billing API (prod)".into(),
            secret: "clavis_cs_abc-def_ghi".into(),
            hint: "_ghi".into(),
            expires_at: None,
        };
        let [env, json, k8s] = downloads(&s);
        assert_eq!(env.filename, "billing-api-prod.env");
        assert_eq!(
            env.content,
            "CLIENT_ID=0123456789abcdef0123456789abcdef\nCLIENT_SECRET=clavis_cs_abc-def_ghi\n"
        );
        let parsed: serde_json::Value = serde_json::from_str(&json.content).unwrap();
        assert_eq!(parsed["client_secret"], "clavis_cs_abc-def_ghi");
        assert_eq!(parsed["client_secret_expires_at"], 0);
        assert!(k8s.content.contains("kind: Secret"));
        assert!(k8s
            .content
            .contains("CLIENT_SECRET: \"clavis_cs_abc-def_ghi\""));
        assert!(k8s.content.contains("name: billing-api-prod-oauth-client"));
        let url = env.data_url();
        assert!(
            url.starts_with("data:text/plain;charset=utf-8,CLIENT_ID%3D0123"),
            "{url}"
        );
        assert!(!url.contains('\n'));
        // A secret that expires says when, in every file.
        let expiring = IssuedSecretOnce {
            expires_at: Some(1_796_400_000_000),
            ..s.clone()
        };
        let [env, json, k8s] = downloads(&expiring);
        assert!(
            env.content
                .starts_with("# CLIENT_SECRET expires at 2026-12-04T"),
            "{}",
            env.content
        );
        assert!(env
            .content
            .ends_with("CLIENT_SECRET=clavis_cs_abc-def_ghi\n"));
        let parsed: serde_json::Value = serde_json::from_str(&json.content).unwrap();
        assert_eq!(parsed["client_secret_expires_at"], 1_796_400_000);
        assert!(
            k8s.content
                .contains("clavis/client-secret-expires-at: \"2026-12-04T"),
            "{}",
            k8s.content
        );
        // A name with nothing usable falls back to the client id.
        let odd = IssuedSecretOnce {
            client_name: "Ünïcode ✓".into(),
            ..s.clone()
        };
        assert_eq!(downloads(&odd)[0].filename, "n-code.env");
        let none = IssuedSecretOnce {
            client_name: "✓✓".into(),
            ..s
        };
        assert_eq!(downloads(&none)[0].filename, "client-01234567.env");
    }
}
