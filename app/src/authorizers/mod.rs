//! Authorizers: gateways in front of one API (an audience) that check Clavis's tokens with a
//! system client of their own (client credentials, scope `clavis:introspect`). This file: the
//! authorizer as the console shows it, its input, and its generated configuration files.
//! Shared by the browser and the server.
//!
//! - `api`: the server functions (both roles read; administrators change).
//! - `ui`: the `/authorizers` list with its form, and an authorizer's page.
//! - `service` (server): create (with its client, in one transaction), update, delete, and
//!   what the configuration endpoint of the admin API reads.

pub mod api;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

use serde::{Deserialize, Serialize};

use crate::secrets::files::ConfigFile;

/// The Kubernetes namespace of the generated configuration unless the administrator sets one.
pub const DEFAULT_NAMESPACE: &str = "clavis-system";

/// An authorizer as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizerView {
    pub id: i64,
    /// Lower-case letters, digits and dashes, from the name: the generated files' names.
    pub slug: String,
    pub name: String,
    pub description: String,
    /// The `aud` of the API it protects.
    pub audience: String,
    pub namespace: String,
    /// The container image of the generated Deployment.
    pub image: String,
    /// Its system client.
    pub client_id: String,
    pub created_at: i64,
    pub created_by: String,
    /// The last time its client authenticated anywhere at Clavis, or fetched its configuration.
    pub last_active_at: Option<i64>,
}

/// The fields an administrator sets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizerInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub audience: String,
    #[serde(default)]
    pub namespace: String,
    pub image: String,
}

/// The generated files that hold `CLIENT_SECRET`, by the names the page shows (`manifest.yaml`
/// only names the Secret). With readable secrets, each download of one is an audited reveal.
pub const FILES_WITH_SECRET: [&str; 3] = ["kustomization.yaml", "values.yaml", ".env"];

/// The authorizer's generated configuration, each a whole file: `kustomization.yaml` (a
/// `secretGenerator` with `CLIENT_ID`, `CLIENT_SECRET` and `ISSUER_URL`), the `manifest.yaml`
/// it names (a Deployment that reads those through `envFrom`), Helm `values.yaml`, and `.env`.
/// `secret` is `None` when it cannot be read: `CLIENT_SECRET=` stays empty.
pub fn config_files(a: &AuthorizerView, secret: Option<&str>, issuer: &str) -> Vec<ConfigFile> {
    let secret = secret.unwrap_or_default();
    let (slug, ns, id) = (&a.slug, &a.namespace, &a.client_id);
    let secrets_name = format!("{slug}-authorizer-secrets");
    let kustomization = format!(
        "resources:\n- manifest.yaml\nsecretGenerator:\n- name: {secrets_name}\n  namespace: {ns}\n  literals:\n  - CLIENT_ID={id}\n  - CLIENT_SECRET={secret}\n  - ISSUER_URL={issuer}\n"
    );
    let app = format!("{slug}-authorizer");
    let manifest = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\n  namespace: {ns}\n  labels:\n    app.kubernetes.io/name: {app}\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {app}\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: {app}\n    spec:\n      containers:\n      - name: authorizer\n        image: \"{}\"\n        envFrom:\n        - secretRef:\n            name: {secrets_name}\n",
        a.image
    );
    let values = format!(
        "clientCredentials:\n  clientID: \"{id}\"\n  clientSecret: \"{secret}\"\nissuerURL: \"{issuer}\"\n"
    );
    let env = format!("CLIENT_ID={id}\nCLIENT_SECRET={secret}\nISSUER_URL={issuer}\n");
    vec![
        ConfigFile::new("kustomization.yaml", kustomization),
        ConfigFile::new("manifest.yaml", manifest),
        ConfigFile::new("values.yaml", values),
        ConfigFile::named(".env", &format!("{slug}.env"), env),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway() -> AuthorizerView {
        AuthorizerView {
            id: 1,
            slug: "orders-gateway".into(),
            name: "Orders gateway".into(),
            description: String::new(),
            audience: "orders-api".into(),
            namespace: DEFAULT_NAMESPACE.into(),
            image: "registry.example/authorizer:1.4".into(),
            client_id: "c5fk2d1ngvl012k9".into(),
            created_at: 0,
            created_by: "root".into(),
            last_active_at: None,
        }
    }

    #[test]
    fn the_kustomization_has_the_seed_s_shape_and_an_empty_secret_when_hashed() {
        let files = config_files(&gateway(), None, "https://id.example");
        let names: Vec<&str> = files.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(
            names,
            ["kustomization.yaml", "manifest.yaml", "values.yaml", ".env"]
        );
        assert_eq!(
            files[0].content,
            "resources:\n- manifest.yaml\nsecretGenerator:\n- name: orders-gateway-authorizer-secrets\n  namespace: clavis-system\n  literals:\n  - CLIENT_ID=c5fk2d1ngvl012k9\n  - CLIENT_SECRET=\n  - ISSUER_URL=https://id.example\n"
        );
        assert!(files[1]
            .content
            .contains("secretRef:\n            name: orders-gateway-authorizer-secrets\n"));
        assert!(files[2].content.contains("clientSecret: \"\""));
        assert!(files[3].content.contains("CLIENT_SECRET=\n"));
        assert_eq!(files[3].filename, "orders-gateway.env");
        let with_secret: Vec<&str> = files
            .iter()
            .filter(|f| f.content.contains("CLIENT_SECRET") || f.content.contains("clientSecret"))
            .map(|f| f.label.as_str())
            .collect();
        assert_eq!(with_secret, FILES_WITH_SECRET);
        let filled = config_files(&gateway(), Some("clavis_cs_x"), "https://id.example");
        assert!(filled[0]
            .content
            .contains("  - CLIENT_SECRET=clavis_cs_x\n"));
        assert!(filled[2].content.contains("clientSecret: \"clavis_cs_x\""));
    }
}
