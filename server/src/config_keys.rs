//! The configuration keys of `clavis.toml` and what each accepts, for the messages of
//! `config` when a value is wrong, and how a `CLAVIS_<KEY>` value is read for each.

/// Every key and what it accepts. The README's reference table mirrors this; the defaults are
/// `Config::default()`, which takes them from `Settings::default()` where the app has them.
pub const KEYS: &[(&str, &str)] = &[
    (
        "database_url",
        "a sqlite://PATH or postgres://USER:PASS@HOST/DB URL",
    ),
    (
        "listen",
        "an IP address and port, such as 0.0.0.0:8080",
    ),
    (
        "issuer",
        "an absolute http:// or https:// URL without path, query or fragment",
    ),
    (
        "max_number_of_client_rotated_secrets",
        "a whole number from 0 to 100",
    ),
    (
        "rotated_secret_ttl",
        "seconds, a whole number from 60 to 31536000 (365 days); unset keeps a rotated secret valid until it is revoked",
    ),
    (
        "rotated_secret_unused_days",
        "days, a whole number from 1 to 365",
    ),
    (
        "secret_max_lifetime",
        "seconds, a whole number from 60 to 157680000 (5 years); unset: secrets do not expire",
    ),
    (
        "secret_expiry_notice",
        "a list of seconds before expiry, each from 60 to 157680000 and at most secret_max_lifetime (a TOML array, or comma-separated in the environment)",
    ),
    (
        "access_token_ttl",
        "seconds, a whole number from 60 to 86400",
    ),
    (
        "access_token_audience",
        "a string put in the aud claim of every access token; unset leaves aud out",
    ),
    (
        "token_max_failures_per_client",
        "a whole number from 0 (no limit) to 100000",
    ),
    (
        "token_max_failures_per_ip",
        "a whole number from 0 (no limit) to 1000000",
    ),
    (
        "token_failure_window",
        "seconds, a whole number from 1 to 86400",
    ),
    (
        "session_idle_timeout",
        "seconds, a whole number from 60 to 86400",
    ),
    (
        "session_absolute_timeout",
        "seconds, a whole number from 300 to 2592000",
    ),
    (
        "person_session_idle_timeout",
        "seconds, a whole number from 60 to 2592000",
    ),
    (
        "refresh_token_reuse_interval",
        "seconds, a whole number from 0 (every reuse is theft) to 60",
    ),
    (
        "login_max_failures_per_account",
        "a whole number from 0 (no limit) to 1000",
    ),
    (
        "login_max_failures_per_ip",
        "a whole number from 0 (no limit) to 100000",
    ),
    (
        "login_failure_window",
        "seconds, a whole number from 1 to 86400",
    ),
    (
        "client_secrets_stored_as_one_way_hash",
        "true (client secrets are stored as hashes only, readable only when made) or false (also sealed under the key-encryption key, so that an administrator can reveal them)",
    ),
    (
        "key_encryption_key_file",
        "a file path; the file holds the key that seals the signing keys, made on the first start if missing",
    ),
    (
        "allowed_hosts",
        "a list of host names (TOML array, or comma-separated in CLAVIS_ALLOWED_HOSTS) the server answers for besides the issuer's host and loopback",
    ),
    (
        "metrics_token",
        "a string of 16 to 200 characters; when set, /metrics answers only Authorization: Bearer with it",
    ),
    (
        "webhook_retry_schedule",
        "a list of at most 20 waits in seconds, each from 1 to 86400, after each failed delivery (a TOML array, or comma-separated in the environment); after the last, the delivery fails",
    ),
    (
        "webhook_allow_private_networks",
        "true (webhooks may go to private and loopback addresses) or false",
    ),
    (
        "webhook_retention",
        "seconds, a whole number from 3600 to 31536000, that finished webhook deliveries are kept",
    ),
    (
        "log",
        "a tracing filter such as info, debug or clavis=debug,sqlx=warn",
    ),
];

/// Environment values are strings; numeric keys are parsed as numbers so that a bad value
/// gets the same message as in the file.
pub(crate) fn env_value(key: &str, value: &str) -> figment::value::Value {
    use figment::value::Value;
    let numeric = !matches!(
        key,
        "database_url"
            | "listen"
            | "issuer"
            | "log"
            | "access_token_audience"
            | "metrics_token"
            | "key_encryption_key_file"
    );
    if key == "client_secrets_stored_as_one_way_hash" || key == "webhook_allow_private_networks" {
        return match value.trim().to_ascii_lowercase().as_str() {
            "true" => Value::from(true),
            "false" => Value::from(false),
            // Left as text: the error then says what the key takes.
            _ => Value::from(value.to_string()),
        };
    }
    if key == "secret_expiry_notice" || key == "webhook_retry_schedule" {
        // Comma-separated seconds; an entry that is not a number stays text, and the error
        // then says what the key takes.
        let items: Vec<Value> = value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| match s.parse::<u64>() {
                Ok(n) => Value::from(n),
                Err(_) => Value::from(s.to_string()),
            })
            .collect();
        return Value::from(items);
    }
    if key == "allowed_hosts" {
        let names: Vec<String> = value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        return Value::from(names);
    }
    if numeric {
        if let Ok(n) = value.trim().parse::<u64>() {
            return Value::from(n);
        }
    }
    Value::from(value.to_string())
}
