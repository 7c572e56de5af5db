//! Which host names this server answers for, and which origins may call it: the issuer's host,
//! the names in `allowed_hosts`, and loopback (for development). A request for any other name
//! is refused, so that a DNS name an attacker points at the listener (DNS rebinding) gets
//! nowhere.

use super::settings::Settings;

/// The host name of a `Host` header value (`name`, `name:port`, `[v6]:port`), lower-cased.
pub fn host_name(host: &str) -> Option<String> {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        &rest[..rest.find(']')?]
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        }
    };
    (!name.is_empty()).then(|| name.to_ascii_lowercase())
}

/// `localhost`, `127.0.0.0/8` and `::1`.
pub fn is_loopback(name: &str) -> bool {
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The host name of the issuer, from its origin.
fn issuer_host(settings: &Settings) -> Option<String> {
    url::Url::parse(&settings.issuer_origin)
        .ok()?
        .host_str()
        .map(|h| {
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase()
        })
}

/// An `allowed_hosts` entry: its host name (lower case, IPv6 without brackets) and the port it
/// names, if any (`name`, `name:port`, `v6`, `[v6]`, `[v6]:port`).
pub fn allowed_entry(entry: &str) -> (String, Option<u16>) {
    let e = entry.trim().to_ascii_lowercase();
    if let Some(rest) = e.strip_prefix('[') {
        if let Some((name, after)) = rest.split_once(']') {
            let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
            return (name.to_string(), port);
        }
    }
    match e.split_once(':') {
        // One colon: a name and a port. More: a bare IPv6 address.
        Some((name, port)) if !port.contains(':') => (name.to_string(), port.parse().ok()),
        _ => (e, None),
    }
}

/// True when this server answers for the host name `name`.
pub fn is_allowed(settings: &Settings, name: &str) -> bool {
    is_loopback(name)
        || issuer_host(settings).is_some_and(|h| h == name)
        || settings
            .allowed_hosts
            .iter()
            .any(|h| allowed_entry(h).0 == name)
}

/// True when `origin` (`scheme://host[:port]`) may send requests that change things, compared
/// as a whole origin (scheme, host and port): the issuer's origin; the origin of an
/// `allowed_hosts` entry, which has the issuer's scheme and the entry's port (or that scheme's
/// default); or, for development, a loopback origin that is the very host the request was sent
/// to. Never an origin merely because it matches the request's own `Host`: an attacker
/// controls both. Another port or scheme of an allowed name is another origin, and refused.
pub fn is_allowed_origin(settings: &Settings, origin: &str, request_host: Option<&str>) -> bool {
    if origin == settings.issuer_origin {
        return true;
    }
    let Ok(url) = url::Url::parse(origin) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    let Some(name) = url.host_str().and_then(host_name) else {
        return false;
    };
    if let Ok(issuer) = url::Url::parse(&settings.issuer_origin) {
        // An entry without a port means the scheme's default, whatever port the issuer uses.
        let default_port = match issuer.scheme() {
            "https" => Some(443),
            "http" => Some(80),
            _ => None,
        };
        let listed = settings.allowed_hosts.iter().any(|entry| {
            let (host, port) = allowed_entry(entry);
            host == name
                && url.scheme() == issuer.scheme()
                && url.port_or_known_default() == port.or(default_port)
        });
        if listed {
            return true;
        }
    }
    is_loopback(&name)
        && request_host.is_some_and(|host| {
            origin == format!("http://{host}") || origin == format!("https://{host}")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            issuer_origin: "https://clavis.example".into(),
            allowed_hosts: vec!["clavis.internal".into(), "clavis.admin:9443".into()],
            ..Settings::default()
        }
    }

    #[test]
    fn host_names() {
        assert_eq!(
            host_name("Clavis.Example:443").as_deref(),
            Some("clavis.example")
        );
        assert_eq!(host_name("[::1]:3000").as_deref(), Some("::1"));
        assert_eq!(host_name("127.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(host_name(""), None);
        assert_eq!(host_name("[::1"), None);
    }

    #[test]
    fn an_entry_without_a_port_has_the_default_port_of_the_issuer_scheme() {
        let s = Settings {
            issuer_origin: "https://clavis.example:8443".into(),
            allowed_hosts: vec!["clavis.internal".into()],
            ..Settings::default()
        };
        assert!(is_allowed_origin(&s, "https://clavis.example:8443", None));
        assert!(is_allowed_origin(&s, "https://clavis.internal", None));
        assert!(!is_allowed_origin(&s, "https://clavis.internal:8443", None));
    }

    #[test]
    fn allowed_entries() {
        assert_eq!(
            allowed_entry("Clavis.Internal"),
            ("clavis.internal".into(), None)
        );
        assert_eq!(
            allowed_entry("clavis.internal:9443"),
            ("clavis.internal".into(), Some(9443))
        );
        assert_eq!(allowed_entry("fd00::1"), ("fd00::1".into(), None));
        assert_eq!(allowed_entry("[fd00::1]"), ("fd00::1".into(), None));
        assert_eq!(
            allowed_entry("[fd00::1]:8443"),
            ("fd00::1".into(), Some(8443))
        );
    }

    #[test]
    fn answered_hosts() {
        let s = settings();
        for ok in [
            "clavis.example",
            "clavis.internal",
            "clavis.admin",
            "localhost",
            "127.0.0.9",
            "::1",
        ] {
            assert!(is_allowed(&s, ok), "{ok}");
        }
        for refused in [
            "attacker.example",
            "clavis.example.attacker.test",
            "10.0.0.1",
        ] {
            assert!(!is_allowed(&s, refused), "{refused}");
        }
    }

    #[test]
    fn allowed_origins() {
        let s = settings();
        assert!(is_allowed_origin(&s, "https://clavis.example", None));
        assert!(is_allowed_origin(&s, "https://clavis.internal", None));
        assert!(is_allowed_origin(&s, "https://clavis.internal:443", None));
        assert!(is_allowed_origin(&s, "https://clavis.admin:9443", None));
        // Whole origins: another port or scheme of an allowed name is another site.
        for other in [
            "https://clavis.internal:9443",
            "http://clavis.internal",
            "https://clavis.admin",
            "http://clavis.admin:9443",
            "https://clavis.example:8443",
        ] {
            assert!(!is_allowed_origin(&s, other, None), "{other}");
        }
        assert!(is_allowed_origin(
            &s,
            "http://127.0.0.1:3000",
            Some("127.0.0.1:3000")
        ));
        // A name the attacker points at the listener matches its own Host, and is refused.
        assert!(!is_allowed_origin(
            &s,
            "http://attacker.example:3000",
            Some("attacker.example:3000")
        ));
        assert!(!is_allowed_origin(
            &s,
            "http://127.0.0.1:3000",
            Some("127.0.0.1:4000")
        ));
        assert!(!is_allowed_origin(&s, "ftp://clavis.internal", None));
        assert!(!is_allowed_origin(&s, "null", None));
    }
}
