//! Configuration: `clavis.toml` (or the file named by `CLAVIS_CONFIG`), overridden by
//! `CLAVIS_<KEY>` environment variables. Invalid values stop the start with a message naming the
//! key and what it accepts; unknown keys are warned about. Secret values (the database URL may
//! hold a password) are wrapped so that they never appear in a debug dump or a log line.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use app::infra::db::engine_of;
use app::infra::settings::{BearerToken, Settings};
use figment::providers::{Format, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config_keys::env_value;
pub use crate::config_keys::KEYS;

/// Environment variables with the `CLAVIS_` prefix that are not configuration keys.
const NON_KEYS: &[&str] = &["config", "admin_username", "admin_password"];

#[derive(Deserialize)]
#[serde(default)]
pub struct Config {
    pub database_url: SecretString,
    pub listen: SocketAddr,
    pub issuer: String,
    pub max_number_of_client_rotated_secrets: u32,
    pub rotated_secret_ttl: Option<u64>,
    pub rotated_secret_unused_days: u32,
    pub secret_max_lifetime: Option<u64>,
    /// `None`: the default notices, less those longer than `secret_max_lifetime`.
    pub secret_expiry_notice: Option<Vec<u64>>,
    pub access_token_ttl: u64,
    pub access_token_audience: Option<String>,
    pub token_max_failures_per_client: u32,
    pub token_max_failures_per_ip: u32,
    pub token_failure_window: u64,
    pub session_idle_timeout: u64,
    pub session_absolute_timeout: u64,
    pub person_session_idle_timeout: u64,
    pub refresh_token_reuse_interval: u64,
    pub login_max_failures_per_account: u32,
    pub login_max_failures_per_ip: u32,
    pub login_failure_window: u64,
    pub allowed_hosts: Vec<String>,
    pub key_encryption_key_file: String,
    pub client_secrets_stored_as_one_way_hash: bool,
    pub metrics_token: Option<SecretString>,
    pub log: String,
    pub webhook_retry_schedule: Vec<u64>,
    pub webhook_allow_private_networks: bool,
    pub webhook_retention: u64,
}

impl Default for Config {
    /// The app's own defaults (`Settings::default()`), plus those of the keys only the server
    /// reads. No default is written twice.
    fn default() -> Self {
        let s = Settings::default();
        let secs = |v: i64| u64::try_from(v).unwrap_or(0);
        Config {
            database_url: SecretString::from("sqlite://data/clavis.db"),
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            issuer: s.issuer,
            max_number_of_client_rotated_secrets: s.max_rotated_secrets,
            rotated_secret_ttl: s.rotated_secret_ttl_secs.map(secs),
            rotated_secret_unused_days: u32::try_from(s.rotated_secret_unused_days).unwrap_or(0),
            secret_max_lifetime: s.secret_max_lifetime_secs.map(secs),
            secret_expiry_notice: None,
            access_token_ttl: secs(s.access_token_ttl_secs),
            access_token_audience: s.access_token_audience,
            token_max_failures_per_client: s.token_max_failures_per_client,
            token_max_failures_per_ip: s.token_max_failures_per_ip,
            token_failure_window: secs(s.token_failure_window_secs),
            session_idle_timeout: secs(s.session_idle_timeout_secs),
            session_absolute_timeout: secs(s.session_absolute_timeout_secs),
            person_session_idle_timeout: secs(s.person_session_idle_timeout_secs),
            refresh_token_reuse_interval: secs(s.refresh_token_reuse_interval_secs),
            login_max_failures_per_account: s.login_max_failures_per_account,
            login_max_failures_per_ip: s.login_max_failures_per_ip,
            login_failure_window: secs(s.login_failure_window_secs),
            allowed_hosts: s.allowed_hosts,
            key_encryption_key_file: "data/key-encryption-key".into(),
            client_secrets_stored_as_one_way_hash: s.client_secrets_stored_as_one_way_hash,
            metrics_token: None,
            log: "info".into(),
            webhook_retry_schedule: s
                .webhook_retry_schedule_secs
                .iter()
                .map(|&v| secs(v))
                .collect(),
            webhook_allow_private_networks: s.webhook_allow_private_networks,
            webhook_retention: secs(s.webhook_retention_secs),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &"<redacted>")
            .field("listen", &self.listen)
            .field("issuer", &self.issuer)
            .field(
                "max_number_of_client_rotated_secrets",
                &self.max_number_of_client_rotated_secrets,
            )
            .field("rotated_secret_ttl", &self.rotated_secret_ttl)
            .field(
                "rotated_secret_unused_days",
                &self.rotated_secret_unused_days,
            )
            .field("secret_max_lifetime", &self.secret_max_lifetime)
            .field("secret_expiry_notice", &self.secret_expiry_notice)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("session_idle_timeout", &self.session_idle_timeout)
            .field("session_absolute_timeout", &self.session_absolute_timeout)
            .field(
                "person_session_idle_timeout",
                &self.person_session_idle_timeout,
            )
            .field(
                "refresh_token_reuse_interval",
                &self.refresh_token_reuse_interval,
            )
            .field(
                "client_secrets_stored_as_one_way_hash",
                &self.client_secrets_stored_as_one_way_hash,
            )
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist (named by CLAVIS_CONFIG)")]
    Missing(PathBuf),
    #[error("configuration file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("invalid configuration key `{key}`{source_hint}: {message}. Allowed: {allowed}")]
    Invalid {
        key: String,
        source_hint: String,
        message: String,
        allowed: String,
    },
}

fn allowed(key: &str) -> String {
    KEYS.iter()
        .find(|(k, _)| *k == key)
        .map(|(_, a)| a.to_string())
        .unwrap_or_else(|| "see the configuration reference in README.md".into())
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        source_hint: String::new(),
        message: message.into(),
        allowed: allowed(key),
    }
}

/// The loaded configuration plus warnings (unknown keys) to log once logging is set up.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

/// Where the configuration file is: `CLAVIS_CONFIG`, else `clavis.toml` if it exists.
pub fn config_path(env: &BTreeMap<String, String>) -> Result<Option<PathBuf>, ConfigError> {
    match env.get("CLAVIS_CONFIG") {
        Some(p) => {
            let p = PathBuf::from(p);
            if p.is_file() {
                Ok(Some(p))
            } else {
                Err(ConfigError::Missing(p))
            }
        }
        None => Ok(Path::new("clavis.toml")
            .is_file()
            .then(|| PathBuf::from("clavis.toml"))),
    }
}

/// Loads from the process environment and the file it names.
pub fn load() -> Result<Loaded, ConfigError> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let path = config_path(&env)?;
    load_from(path.as_deref(), &env)
}

/// Loads from an explicit file (if any) and environment map. Used by `load` and by tests.
pub fn load_from(
    path: Option<&Path>,
    env: &BTreeMap<String, String>,
) -> Result<Loaded, ConfigError> {
    let mut warnings = Vec::new();
    let mut figment = Figment::new();
    if let Some(path) = path {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: e.message().to_string(),
        })?;
        for key in table.keys() {
            if !KEYS.iter().any(|(k, _)| k == key) {
                warnings.push(format!(
                    "unknown configuration key `{key}` in {} is ignored",
                    path.display()
                ));
            }
        }
        figment = figment.merge(Toml::string(&text));
    }
    let mut env_pairs = Vec::new();
    for (name, value) in env {
        let Some(key) = name.strip_prefix("CLAVIS_") else {
            continue;
        };
        let key = key.to_ascii_lowercase();
        if NON_KEYS.contains(&key.as_str()) {
            continue;
        }
        if KEYS.iter().any(|(k, _)| *k == key) {
            env_pairs.push((key, value.clone()));
        } else {
            warnings.push(format!("unknown configuration variable {name} is ignored"));
        }
    }
    for (key, value) in &env_pairs {
        figment = figment.merge((key.as_str(), env_value(key, value)));
    }
    let config: Config = figment.extract().map_err(|e| {
        let key = e.path.first().cloned().unwrap_or_else(|| "?".into());
        let source_hint = if env_pairs.iter().any(|(k, _)| *k == key) {
            format!(" (from CLAVIS_{})", key.to_ascii_uppercase())
        } else {
            path.map(|p| format!(" (in {})", p.display()))
                .unwrap_or_default()
        };
        ConfigError::Invalid {
            allowed: allowed(&key),
            key,
            source_hint,
            message: e.kind.to_string(),
        }
    })?;
    validate(&config)?;
    Ok(Loaded { config, warnings })
}

/// The longest secret lifetime: five years, in seconds.
const SECRET_LIFETIME_MAX: u64 = app::secrets::LIFETIME_MAX_SECS as u64;

fn in_range(key: &str, v: u64, lo: u64, hi: u64) -> Result<(), ConfigError> {
    if v < lo || v > hi {
        return Err(invalid(key, format!("{v} is out of range")));
    }
    Ok(())
}

fn validate(c: &Config) -> Result<(), ConfigError> {
    engine_of(c.database_url.expose_secret())
        .map_err(|_| invalid("database_url", "the scheme is not sqlite or postgres"))?;
    let issuer = url::Url::parse(&c.issuer).map_err(|e| invalid("issuer", e.to_string()))?;
    if !matches!(issuer.scheme(), "http" | "https")
        || issuer.host().is_none()
        || issuer.path() != "/"
        || issuer.query().is_some()
        || issuer.fragment().is_some()
    {
        return Err(invalid(
            "issuer",
            format!("`{}` is not a bare http(s) origin", c.issuer),
        ));
    }
    in_range(
        "max_number_of_client_rotated_secrets",
        c.max_number_of_client_rotated_secrets.into(),
        0,
        100,
    )?;
    if let Some(ttl) = c.rotated_secret_ttl {
        in_range("rotated_secret_ttl", ttl, 60, 31_536_000)?;
    }
    in_range(
        "rotated_secret_unused_days",
        c.rotated_secret_unused_days.into(),
        1,
        365,
    )?;
    if let Some(max) = c.secret_max_lifetime {
        in_range("secret_max_lifetime", max, 60, SECRET_LIFETIME_MAX)?;
    }
    for &notice in c.secret_expiry_notice.iter().flatten() {
        in_range("secret_expiry_notice", notice, 60, SECRET_LIFETIME_MAX)?;
        if let Some(max) = c.secret_max_lifetime.filter(|max| notice > *max) {
            return Err(invalid(
                "secret_expiry_notice",
                format!("a notice of {notice} seconds is longer than secret_max_lifetime ({max} seconds)"),
            ));
        }
    }
    in_range("access_token_ttl", c.access_token_ttl, 60, 86_400)?;
    if c.webhook_retry_schedule.len() > 20 {
        return Err(invalid(
            "webhook_retry_schedule",
            "it has more than 20 steps",
        ));
    }
    for &step in &c.webhook_retry_schedule {
        in_range("webhook_retry_schedule", step, 1, 86_400)?;
    }
    in_range("webhook_retention", c.webhook_retention, 3600, 31_536_000)?;
    in_range(
        "token_max_failures_per_client",
        c.token_max_failures_per_client.into(),
        0,
        100_000,
    )?;
    in_range(
        "token_max_failures_per_ip",
        c.token_max_failures_per_ip.into(),
        0,
        1_000_000,
    )?;
    in_range("token_failure_window", c.token_failure_window, 1, 86_400)?;
    if c.access_token_audience
        .as_deref()
        .is_some_and(|a| a.trim().is_empty() || a.len() > 200)
    {
        return Err(invalid("access_token_audience", "it is empty or too long"));
    }
    in_range("session_idle_timeout", c.session_idle_timeout, 60, 86_400)?;
    in_range(
        "session_absolute_timeout",
        c.session_absolute_timeout,
        300,
        2_592_000,
    )?;
    in_range(
        "person_session_idle_timeout",
        c.person_session_idle_timeout,
        60,
        2_592_000,
    )?;
    in_range(
        "refresh_token_reuse_interval",
        c.refresh_token_reuse_interval,
        0,
        60,
    )?;
    in_range(
        "login_max_failures_per_account",
        c.login_max_failures_per_account.into(),
        0,
        1000,
    )?;
    in_range(
        "login_max_failures_per_ip",
        c.login_max_failures_per_ip.into(),
        0,
        100_000,
    )?;
    in_range("login_failure_window", c.login_failure_window, 1, 86_400)?;
    if c.key_encryption_key_file.trim().is_empty() {
        return Err(invalid("key_encryption_key_file", "it is empty"));
    }
    for h in &c.allowed_hosts {
        let name = h.trim();
        let plain = !name.is_empty()
            && name.len() <= 253
            && name.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
            });
        // A port, where one is written, must be a port (`name:9443`, `[v6]:9443`).
        let (host, port) = app::infra::hosts::allowed_entry(name);
        let port_written = name.matches(':').count() == 1 || name.contains("]:");
        if !plain || host.is_empty() || (port_written && port.is_none()) {
            return Err(invalid(
                "allowed_hosts",
                format!("`{h}` is not a host name with an optional :port (no scheme or path)"),
            ));
        }
    }
    if let Some(t) = &c.metrics_token {
        let n = t.expose_secret().chars().count();
        if !(16..=200).contains(&n) {
            return Err(invalid("metrics_token", format!("it has {n} characters")));
        }
    }
    tracing_subscriber::EnvFilter::try_new(&c.log).map_err(|e| invalid("log", e.to_string()))?;
    Ok(())
}

impl Config {
    /// The issuer as parsed (validation has checked that it parses): scheme and host in
    /// lower case, as a browser and a client library compare them.
    fn issuer_url(&self) -> Option<url::Url> {
        url::Url::parse(&self.issuer).ok()
    }

    /// The origin (`scheme://host[:port]`) of the issuer, which mutating requests must match.
    pub fn issuer_origin(&self) -> String {
        self.issuer_url()
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|| self.issuer.trim_end_matches('/').to_string())
    }

    /// The notices, longest first: as configured, or the defaults that fit in the lifetime.
    fn expiry_notice(&self) -> Vec<i64> {
        let mut notice: Vec<i64> = match &self.secret_expiry_notice {
            Some(n) => n.iter().map(|&s| s as i64).collect(),
            None => Settings::default()
                .secret_expiry_notice_secs
                .into_iter()
                .filter(|&s| self.secret_max_lifetime.is_none_or(|max| s as u64 <= max))
                .collect(),
        };
        notice.sort_unstable_by(|a, b| b.cmp(a));
        notice.dedup();
        notice
    }

    pub fn settings(&self) -> Settings {
        let issuer = self.issuer_url();
        Settings {
            issuer_origin: self.issuer_origin(),
            // Decided on the parsed URL: `HTTPS://…` is https too.
            cookie_secure: issuer.as_ref().is_some_and(|u| u.scheme() == "https"),
            session_idle_timeout_secs: self.session_idle_timeout as i64,
            session_absolute_timeout_secs: self.session_absolute_timeout as i64,
            person_session_idle_timeout_secs: self.person_session_idle_timeout as i64,
            refresh_token_reuse_interval_secs: self.refresh_token_reuse_interval as i64,
            login_max_failures_per_account: self.login_max_failures_per_account,
            login_max_failures_per_ip: self.login_max_failures_per_ip,
            login_failure_window_secs: self.login_failure_window as i64,
            max_rotated_secrets: self.max_number_of_client_rotated_secrets,
            rotated_secret_ttl_secs: self.rotated_secret_ttl.map(|t| t as i64),
            rotated_secret_unused_days: self.rotated_secret_unused_days.into(),
            secret_max_lifetime_secs: self.secret_max_lifetime.map(|t| t as i64),
            secret_expiry_notice_secs: self.expiry_notice(),
            issuer: issuer
                .map(|u| u.as_str().trim_end_matches('/').to_string())
                .unwrap_or_else(|| self.issuer.trim_end_matches('/').to_string()),
            access_token_ttl_secs: self.access_token_ttl as i64,
            access_token_audience: self.access_token_audience.clone(),
            token_max_failures_per_client: self.token_max_failures_per_client,
            token_max_failures_per_ip: self.token_max_failures_per_ip,
            token_failure_window_secs: self.token_failure_window as i64,
            allowed_hosts: self
                .allowed_hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
            metrics_token: self
                .metrics_token
                .as_ref()
                .map(|t| BearerToken::new(t.expose_secret())),
            // Read from `key_encryption_key_file` by `server::serve`, which needs the database.
            key_encryption_key: None,
            client_secrets_stored_as_one_way_hash: self.client_secrets_stored_as_one_way_hash,
            webhook_retry_schedule_secs: self
                .webhook_retry_schedule
                .iter()
                .map(|&v| v as i64)
                .collect(),
            webhook_allow_private_networks: self.webhook_allow_private_networks,
            webhook_retention_secs: self.webhook_retention as i64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(f.path(), text).expect("write");
        f
    }

    #[test]
    fn defaults_without_file_or_env() {
        let l = load_from(None, &env(&[])).expect("defaults load");
        assert_eq!(l.config.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(l.config.max_number_of_client_rotated_secrets, 1);
        assert_eq!(
            l.config.database_url.expose_secret(),
            "sqlite://data/clavis.db"
        );
        assert!(l.warnings.is_empty());
    }

    #[test]
    fn the_default_configuration_gives_the_default_settings() {
        assert_eq!(Config::default().settings(), Settings::default());
    }

    #[test]
    fn an_https_issuer_in_any_case_turns_on_secure_cookies() {
        let l = load_from(
            None,
            &env(&[("CLAVIS_ISSUER", "HTTPS://Clavis.Example:8443")]),
        )
        .expect("load");
        let s = l.config.settings();
        assert!(s.cookie_secure);
        assert_eq!(s.issuer, "https://clavis.example:8443");
        assert_eq!(s.issuer_origin, "https://clavis.example:8443");
        let l = load_from(None, &env(&[("CLAVIS_ISSUER", "http://localhost:3000")])).expect("load");
        assert!(!l.config.settings().cookie_secure);
    }

    #[test]
    fn the_storage_flag_from_the_file_or_the_environment() {
        let l = load_from(None, &env(&[])).expect("load");
        assert!(l.config.settings().client_secrets_stored_as_one_way_hash);
        let f = file("client_secrets_stored_as_one_way_hash = false\n");
        let l = load_from(Some(f.path()), &env(&[])).expect("load");
        assert!(!l.config.settings().client_secrets_stored_as_one_way_hash);
        let key = "CLAVIS_CLIENT_SECRETS_STORED_AS_ONE_WAY_HASH";
        let l = load_from(Some(f.path()), &env(&[(key, "TRUE")])).expect("load");
        assert!(l.config.settings().client_secrets_stored_as_one_way_hash);
        let e = load_from(None, &env(&[(key, "sometimes")]))
            .expect_err("refused")
            .to_string();
        assert!(e.contains("client_secrets_stored_as_one_way_hash"), "{e}");
        assert!(e.contains("true (client secrets"), "{e}");
    }

    #[test]
    fn allowed_hosts_from_the_file_or_the_environment() {
        let f = file("allowed_hosts = [\"Clavis.Internal\", \"10.1.2.3\"]\n");
        let l = load_from(Some(f.path()), &env(&[])).expect("load");
        assert_eq!(
            l.config.settings().allowed_hosts,
            vec!["clavis.internal".to_string(), "10.1.2.3".to_string()]
        );
        let l = load_from(
            None,
            &env(&[("CLAVIS_ALLOWED_HOSTS", "a.example, b.example")]),
        )
        .expect("load");
        assert_eq!(
            l.config.settings().allowed_hosts,
            vec!["a.example", "b.example"]
        );
        let e = load_from(
            None,
            &env(&[("CLAVIS_ALLOWED_HOSTS", "https://a.example/")]),
        )
        .expect_err("a URL is not a host name");
        assert!(e.to_string().contains("`allowed_hosts`"), "{e}");
    }

    #[test]
    fn secret_lifetime_and_notices_from_the_file_or_the_environment() {
        // Unset: no expiry, and the default notices.
        let s = load_from(None, &env(&[])).expect("load").config.settings();
        assert_eq!(s.secret_max_lifetime_secs, None);
        assert_eq!(
            s.secret_expiry_notice_secs,
            vec![2_592_000, 604_800, 86_400]
        );
        // A short policy keeps the default notices that fit in it.
        let f = file("secret_max_lifetime = 864000\n");
        let s = load_from(Some(f.path()), &env(&[]))
            .expect("load")
            .config
            .settings();
        assert_eq!(s.secret_max_lifetime_secs, Some(864_000));
        assert_eq!(s.secret_expiry_notice_secs, vec![604_800, 86_400]);
        // Small values, as tests use: a 2-minute lifetime with a 1-minute notice.
        let f = file("secret_max_lifetime = 120\nsecret_expiry_notice = [60]\n");
        let s = load_from(Some(f.path()), &env(&[]))
            .expect("load")
            .config
            .settings();
        assert_eq!(
            (s.secret_max_lifetime_secs, s.secret_expiry_notice_secs),
            (Some(120), vec![60])
        );
        let l = load_from(
            None,
            &env(&[
                ("CLAVIS_SECRET_MAX_LIFETIME", "7776000"),
                ("CLAVIS_SECRET_EXPIRY_NOTICE", "86400, 2592000,604800"),
            ]),
        )
        .expect("load");
        assert_eq!(
            l.config.settings().secret_expiry_notice_secs,
            vec![2_592_000, 604_800, 86_400],
            "longest first"
        );
        // Bad values name the key.
        for (pairs, key) in [
            (
                vec![("CLAVIS_SECRET_MAX_LIFETIME", "59")],
                "`secret_max_lifetime`",
            ),
            (
                vec![("CLAVIS_SECRET_MAX_LIFETIME", "-1")],
                "`secret_max_lifetime`",
            ),
            (
                vec![("CLAVIS_SECRET_MAX_LIFETIME", "157680001")],
                "`secret_max_lifetime`",
            ),
            (
                vec![("CLAVIS_SECRET_EXPIRY_NOTICE", "86400,soon")],
                "`secret_expiry_notice`",
            ),
            (
                vec![
                    ("CLAVIS_SECRET_MAX_LIFETIME", "3600"),
                    ("CLAVIS_SECRET_EXPIRY_NOTICE", "7200"),
                ],
                "longer than secret_max_lifetime",
            ),
        ] {
            let e = load_from(None, &env(&pairs)).expect_err("must fail");
            assert!(e.to_string().contains(key), "{pairs:?}: {e}");
        }
    }

    #[test]
    fn env_overrides_file() {
        let f = file("listen = \"127.0.0.1:4000\"\nmax_number_of_client_rotated_secrets = 3\n");
        let l = load_from(
            Some(f.path()),
            &env(&[("CLAVIS_MAX_NUMBER_OF_CLIENT_ROTATED_SECRETS", "0")]),
        )
        .expect("load");
        assert_eq!(l.config.listen.to_string(), "127.0.0.1:4000");
        assert_eq!(l.config.max_number_of_client_rotated_secrets, 0);
    }

    #[test]
    fn invalid_values_name_the_key_and_the_allowed_values() {
        let f = file("max_number_of_client_rotated_secrets = \"lots\"\n");
        let e = load_from(Some(f.path()), &env(&[])).expect_err("must fail");
        let msg = e.to_string();
        assert!(
            msg.contains("max_number_of_client_rotated_secrets"),
            "{msg}"
        );
        assert!(msg.contains("a whole number from 0 to 100"), "{msg}");

        let e = load_from(None, &env(&[("CLAVIS_ISSUER", "ftp://x")])).expect_err("must fail");
        assert!(e.to_string().contains("`issuer`"), "{e}");

        let e =
            load_from(None, &env(&[("CLAVIS_LISTEN", "not-an-address")])).expect_err("must fail");
        assert!(e.to_string().contains("`listen`"), "{e}");

        let e =
            load_from(None, &env(&[("CLAVIS_SESSION_IDLE_TIMEOUT", "5")])).expect_err("must fail");
        assert!(e.to_string().contains("out of range"), "{e}");

        let e =
            load_from(None, &env(&[("CLAVIS_ROTATED_SECRET_TTL", "10")])).expect_err("must fail");
        assert!(e.to_string().contains("`rotated_secret_ttl`"), "{e}");
        assert!(e.to_string().contains("60 to 31536000"), "{e}");
    }

    #[test]
    fn rotated_secret_ttl_is_unset_by_default_and_settable() {
        let l = load_from(None, &env(&[])).expect("defaults");
        assert_eq!(l.config.rotated_secret_ttl, None);
        assert_eq!(l.config.settings().rotated_secret_ttl_secs, None);
        assert_eq!(l.config.settings().max_rotated_secrets, 1);
        let l = load_from(None, &env(&[("CLAVIS_ROTATED_SECRET_TTL", "86400")])).expect("load");
        assert_eq!(l.config.settings().rotated_secret_ttl_secs, Some(86_400));
    }

    #[test]
    fn malformed_toml_is_a_syntax_error_naming_the_file() {
        let f = file("listen = \n[[[");
        let e = load_from(Some(f.path()), &env(&[])).expect_err("must fail");
        assert!(matches!(e, ConfigError::Syntax { .. }), "{e}");
        assert!(e.to_string().contains(&f.path().display().to_string()));
    }

    #[test]
    fn unknown_keys_are_warned_not_fatal() {
        let f = file("lisen = \"127.0.0.1:1\"\n");
        let l = load_from(
            Some(f.path()),
            &env(&[("CLAVIS_FOO", "1"), ("CLAVIS_ADMIN_PASSWORD", "x")]),
        )
        .expect("load");
        assert_eq!(l.warnings.len(), 2, "{:?}", l.warnings);
        assert!(l.warnings.iter().any(|w| w.contains("lisen")));
        assert!(l.warnings.iter().any(|w| w.contains("CLAVIS_FOO")));
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let l = load_from(
            None,
            &env(&[("CLAVIS_DATABASE_URL", "postgres://u:hunter2@db/clavis")]),
        )
        .expect("load");
        let dump = format!("{:?}", l.config);
        assert!(!dump.contains("hunter2"), "{dump}");
    }

    #[test]
    fn missing_named_file_is_an_error() {
        let e = config_path(&env(&[("CLAVIS_CONFIG", "/nonexistent/clavis.toml")]))
            .expect_err("must fail");
        assert!(matches!(e, ConfigError::Missing(_)));
    }
}
