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

/// True when this server answers for the host name `name`.
pub fn is_allowed(settings: &Settings, name: &str) -> bool {
    is_loopback(name)
        || issuer_host(settings).is_some_and(|h| h == name)
        || settings.allowed_hosts.iter().any(|h| h == name)
}

/// True when `origin` (`scheme://host[:port]`) may send requests that change things: the
/// issuer's origin, an http(s) origin on a name in `allowed_hosts`, or, for development, a
/// loopback origin that is the very host the request was sent to. Never an origin merely
/// because it matches the request's own `Host`: an attacker controls both.
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
    if settings.allowed_hosts.contains(&name) {
        return true;
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
            allowed_hosts: vec!["clavis.internal".into()],
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
    fn answered_hosts() {
        let s = settings();
        for ok in [
            "clavis.example",
            "clavis.internal",
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
        assert!(is_allowed_origin(&s, "https://clavis.internal:8443", None));
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
