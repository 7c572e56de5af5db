//! Input rules for clients, applied by the server to everything it is sent. Each failure names
//! the form field it belongs to, so the page can show it next to that field.

use crate::clients::kind::ClientType;
use crate::error::AppError;

pub use super::NAME_MAX;
pub const DESCRIPTION_MAX: usize = 1000;
pub const REDIRECT_URIS_MAX: usize = 20;
pub const REDIRECT_URI_MAX_LEN: usize = 2000;
pub const SCOPES_MAX: usize = 50;
pub const SCOPE_MAX_LEN: usize = 128;
pub const AUDIENCE_MAX_LEN: usize = 200;

pub(crate) fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A display name: trimmed, 1–100 characters, no control or bidirectional-override characters.
/// Any script is welcome; look-alike letters are accepted and always shown as text, never HTML.
pub fn name(field: &str, raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::validation(field, "Enter a name."));
    }
    if name.chars().count() > NAME_MAX {
        return Err(AppError::validation(
            field,
            format!("A name has at most {NAME_MAX} characters."),
        ));
    }
    if name.chars().any(is_control) {
        return Err(AppError::validation(
            field,
            "A name cannot contain control or text-direction characters.",
        ));
    }
    Ok(name.to_string())
}

/// A description: trimmed, at most 1000 characters, line breaks allowed, other controls not.
pub fn description(raw: &str) -> Result<String, AppError> {
    let d = raw.trim();
    if d.chars().count() > DESCRIPTION_MAX {
        return Err(AppError::validation(
            "description",
            format!("A description has at most {DESCRIPTION_MAX} characters."),
        ));
    }
    if d.chars()
        .any(|c| c != '\n' && c != '\r' && c != '\t' && is_control(c))
    {
        return Err(AppError::validation(
            "description",
            "A description cannot contain control characters.",
        ));
    }
    Ok(d.to_string())
}

pub(crate) fn loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => *ip == std::net::Ipv4Addr::LOCALHOST,
        url::Host::Ipv6(ip) => *ip == std::net::Ipv6Addr::LOCALHOST,
    }
}

/// One redirect URI, checked for a client of type `kind`.
pub fn redirect_uri(kind: ClientType, raw: &str) -> Result<String, String> {
    let s = raw.trim();
    if s.len() > REDIRECT_URI_MAX_LEN {
        return Err(format!("is longer than {REDIRECT_URI_MAX_LEN} characters"));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains spaces or control characters".into());
    }
    if s.contains('#') {
        return Err("has a fragment (#…), which redirect URIs may not have".into());
    }
    if s.contains('*') {
        return Err("has a wildcard; register each exact URI instead".into());
    }
    let url = url::Url::parse(s).map_err(|_| "is not an absolute URI".to_string())?;
    match url.scheme() {
        "https" => {
            if url.host().is_none() {
                return Err("has no host".into());
            }
        }
        "http" => match url.host() {
            Some(h) if loopback(&h) => {}
            _ => return Err("uses http; only https is allowed, or http on 127.0.0.1, [::1] or localhost for development".into()),
        },
        "javascript" | "data" | "vbscript" | "file" | "blob" | "about" => {
            return Err(format!("uses the {}: scheme, which is never allowed", url.scheme()));
        }
        scheme if scheme.contains('.') => {
            // RFC 8252 §7.1: native apps use a private-use scheme in reverse-domain form.
            if kind != ClientType::PublicPkce {
                return Err("uses a private-use scheme, which only public (native) clients may use".into());
            }
        }
        scheme => {
            return Err(format!(
                "uses the {scheme}: scheme; use https, or a reverse-domain scheme such as com.example.app: for native apps"
            ))
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("contains a user name or password".into());
    }
    Ok(s.to_string())
}

/// The redirect URIs of a client, one per line. PKCE types need 1–20; client credentials none.
pub fn redirect_uris(kind: ClientType, raw: &str) -> Result<Vec<String>, AppError> {
    uri_list(kind, raw, "redirect_uris", true)
}

/// The post-logout redirect URIs of a client, one per line, with the rules of redirect URIs:
/// 0–20 for PKCE types, none for client credentials.
pub fn post_logout_redirect_uris(kind: ClientType, raw: &str) -> Result<Vec<String>, AppError> {
    uri_list(kind, raw, "post_logout_redirect_uris", false)
}

/// Whether a client is first-party (no consent screen): only a PKCE client signs people in.
/// A client's own secret lifetime (seconds), for the types that have a secret; empty for the
/// server's policy.
pub fn secret_lifetime(
    kind: ClientType,
    raw: &str,
    max: Option<i64>,
) -> Result<Option<i64>, AppError> {
    if !kind.has_secret() && !raw.trim().is_empty() {
        return Err(AppError::validation(
            "secret_lifetime",
            "Public clients have no secret, so they have no secret lifetime.",
        ));
    }
    crate::secrets::parse_lifetime(raw, max)
}

pub fn first_party(kind: ClientType, first_party: bool) -> Result<bool, AppError> {
    if first_party && !kind.uses_redirect_uris() {
        return Err(AppError::validation(
            "first_party",
            "Only clients that people sign in to can skip consent.",
        ));
    }
    Ok(first_party)
}

fn uri_list(
    kind: ClientType,
    raw: &str,
    field: &str,
    required: bool,
) -> Result<Vec<String>, AppError> {
    let lines: Vec<&str> = raw
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if !kind.uses_redirect_uris() {
        if lines.is_empty() {
            return Ok(Vec::new());
        }
        return Err(AppError::validation(
            field,
            "Client-credentials clients have no redirect URIs: no person is sent back to them.",
        ));
    }
    if lines.is_empty() && !required {
        return Ok(Vec::new());
    }
    if lines.is_empty() {
        return Err(AppError::validation(
            field,
            "Add at least one redirect URI, one per line.",
        ));
    }
    if lines.len() > REDIRECT_URIS_MAX {
        return Err(AppError::validation(
            field,
            format!("At most {REDIRECT_URIS_MAX} redirect URIs."),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let uri = redirect_uri(kind, line).map_err(|why| {
            let shown: String = line.chars().take(80).collect();
            AppError::validation(field, format!("Line {}: {shown} {why}.", i + 1))
        })?;
        if out.contains(&uri) {
            return Err(AppError::validation(
                field,
                format!("Line {}: {uri} is listed twice.", i + 1),
            ));
        }
        out.push(uri);
    }
    Ok(out)
}

/// Allowed scopes, separated by spaces or lines: RFC 6749 §3.3 scope tokens (printable ASCII
/// except space, `"` and `\`). Client-credentials clients need at least one.
pub fn scopes(kind: ClientType, raw: &str) -> Result<Vec<String>, AppError> {
    let field = "scopes";
    let tokens: Vec<&str> = raw.split_whitespace().collect();
    if kind != ClientType::ClientCredentials {
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        return Err(AppError::validation(
            field,
            "Only client-credentials clients have allowed scopes here.",
        ));
    }
    if tokens.is_empty() {
        return Err(AppError::validation(
            field,
            "Add at least one scope this client may request.",
        ));
    }
    if tokens.len() > SCOPES_MAX {
        return Err(AppError::validation(
            field,
            format!("At most {SCOPES_MAX} scopes."),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    for t in tokens {
        let valid = t.len() <= SCOPE_MAX_LEN
            && t.bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
        if !valid {
            let shown: String = t.chars().take(40).collect();
            return Err(AppError::validation(
                field,
                format!("{shown} is not a valid scope: use up to {SCOPE_MAX_LEN} printable ASCII characters without quotes or backslashes."),
            ));
        }
        if !out.iter().any(|s| s == t) {
            out.push(t.to_string());
        }
    }
    // The admin API's scopes. Its tokens carry the API's audience; a client that also had
    // other scopes would send such tokens to other APIs too, whose operators could replay them
    // at this one. So an automation client of the admin API holds nothing else.
    let clavis: Vec<&String> = out.iter().filter(|s| s.starts_with("clavis:")).collect();
    if let Some(unknown) = clavis.iter().find(|s| !CLAVIS_SCOPES.contains(&s.as_str())) {
        return Err(AppError::validation(
            field,
            format!("{unknown} is not a scope of Clavis: use clavis:admin, clavis:support, clavis:reveal or clavis:introspect."),
        ));
    }
    // An authorizer's client checks tokens and does nothing else.
    if clavis.iter().any(|s| *s == "clavis:introspect") && out.len() > 1 {
        return Err(AppError::validation(
            field,
            "A client with clavis:introspect checks tokens for an authorizer and holds no other scope.",
        ));
    }
    // Revealing is an administrator's act, given on top of clavis:admin, never alone.
    if clavis.iter().any(|s| *s == "clavis:reveal") && !clavis.iter().any(|s| *s == "clavis:admin")
    {
        return Err(AppError::validation(
            field,
            "clavis:reveal lets an automation client reveal readable secrets, which only an administrator may do: add clavis:admin too.",
        ));
    }
    if !clavis.is_empty() && clavis.len() != out.len() {
        return Err(AppError::validation(
            field,
            "A client with clavis:admin or clavis:support drives Clavis's admin API and holds no other scope: \
             its tokens must be good for that API only. Make another client for the other scopes.",
        ));
    }
    Ok(out)
}

/// Clavis's own scopes: the admin API's, one per console role (`oauth::access`), and token
/// introspection's (`oauth::introspect`).
pub const CLAVIS_SCOPES: [&str; 4] = [
    "clavis:admin",
    "clavis:support",
    "clavis:reveal",
    "clavis:introspect",
];

/// The audience of a client-credentials client's access tokens (the JWT `aud` claim), or `None`
/// for the configured default. RFC 7519 makes it a "StringOrURI": an identifier such as
/// `orders-api`, or an absolute URI such as `https://api.example.com`. Printable ASCII only, so
/// that what the console shows is exactly what resource servers compare.
pub fn audience(kind: ClientType, raw: &str) -> Result<Option<String>, AppError> {
    let field = "audience";
    let a = raw.trim();
    if a.is_empty() {
        return Ok(None);
    }
    if kind != ClientType::ClientCredentials {
        return Err(AppError::validation(
            field,
            "Only client-credentials clients get access tokens here, so only they have an audience.",
        ));
    }
    let shown: String = a.chars().take(40).collect();
    if a.len() > AUDIENCE_MAX_LEN || !a.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(AppError::validation(
            field,
            format!("{shown} is not a valid audience: use up to {AUDIENCE_MAX_LEN} printable ASCII characters without spaces."),
        ));
    }
    if a.contains(':') && url::Url::parse(a).is_err() {
        return Err(AppError::validation(
            field,
            format!("{shown} contains a colon, so it must be an absolute URI such as https://api.example.com."),
        ));
    }
    Ok(Some(a.to_string()))
}

/// Where a client goes, from the application picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplicationChoice {
    /// Nothing chosen: none for a new client, the current one for an edit.
    Keep,
    None,
    Existing(i64),
    /// A new application with this (checked) name.
    New(String),
}

/// The picker's two fields: `application` (an id, `none` or empty) and `new_application`.
pub fn application_choice(
    application: &str,
    new_application: &str,
) -> Result<ApplicationChoice, AppError> {
    let picked = match application.trim() {
        "" => ApplicationChoice::Keep,
        super::NO_APPLICATION => ApplicationChoice::None,
        id => match id.parse::<i64>() {
            Ok(id) if id > 0 => ApplicationChoice::Existing(id),
            _ => {
                return Err(AppError::validation(
                    "application",
                    "Choose an application from the list.",
                ))
            }
        },
    };
    if new_application.trim().is_empty() {
        return Ok(picked);
    }
    if matches!(picked, ApplicationChoice::Existing(_)) {
        return Err(AppError::validation(
            "new_application",
            "Choose an existing application or name a new one, not both.",
        ));
    }
    Ok(ApplicationChoice::New(name(
        "new_application",
        new_application,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ClientType::*;

    #[test]
    fn application_picker() {
        use ApplicationChoice::*;
        assert_eq!(application_choice("", "").unwrap(), Keep);
        assert_eq!(application_choice("none", " ").unwrap(), None);
        assert_eq!(application_choice("12", "").unwrap(), Existing(12));
        assert_eq!(
            application_choice("none", " Shop ").unwrap(),
            New("Shop".into())
        );
        assert_eq!(application_choice("", "Shop").unwrap(), New("Shop".into()));
        let field = |r: Result<ApplicationChoice, AppError>| match r.unwrap_err() {
            AppError::Validation { field, .. } => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(application_choice("12", "Shop")), "new_application");
        assert_eq!(field(application_choice("x", "")), "application");
        assert_eq!(field(application_choice("-3", "")), "application");
        assert_eq!(
            field(application_choice("none", &"a".repeat(101))),
            "new_application"
        );
    }

    #[test]
    fn redirect_uri_rules() {
        // (type, uri, allowed)
        let cases: &[(ClientType, &str, bool)] = &[
            (ConfidentialPkce, "https://app.example.com/callback", true),
            (
                ConfidentialPkce,
                "https://app.example.com:8443/cb?x=1",
                true,
            ),
            (ConfidentialPkce, "http://127.0.0.1:8080/cb", true),
            (ConfidentialPkce, "http://[::1]/cb", true),
            (PublicPkce, "http://localhost:5173/cb", true),
            (PublicPkce, "com.example.app:/oauth2redirect", true),
            (ConfidentialPkce, "com.example.app:/oauth2redirect", false),
            (PublicPkce, "javascript:alert(1)", false),
            (PublicPkce, "JavaScript:alert(1)", false),
            (
                PublicPkce,
                "data:text/html,<script>alert(1)</script>",
                false,
            ),
            (PublicPkce, "https://app.example.com/cb#frag", false),
            (PublicPkce, "https://*.example.com/cb", false),
            (PublicPkce, "http://example.com/cb", false),
            (PublicPkce, "http://127.0.0.2/cb", false),
            (PublicPkce, "http://localhost.evil.test/cb", false),
            (PublicPkce, "/relative/cb", false),
            (PublicPkce, "example.com/cb", false),
            (PublicPkce, "https://user:pw@app.example.com/cb", false),
            (PublicPkce, "https://app.example.com/c b", false),
            (PublicPkce, "ftp://files.example.com/", false),
            (PublicPkce, "myapp:/cb", false),
            (PublicPkce, "file:///etc/passwd", false),
        ];
        for (kind, uri, ok) in cases {
            assert_eq!(
                redirect_uri(*kind, uri).is_ok(),
                *ok,
                "{kind:?} {uri}: {:?}",
                redirect_uri(*kind, uri)
            );
        }
        let long = format!(
            "https://app.example.com/{}",
            "a".repeat(REDIRECT_URI_MAX_LEN)
        );
        assert!(redirect_uri(PublicPkce, &long).is_err());
    }

    #[test]
    fn post_logout_redirect_uris_are_optional_redirect_uris_and_first_party_is_for_pkce() {
        assert_eq!(
            post_logout_redirect_uris(PublicPkce, " \n").unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            post_logout_redirect_uris(ConfidentialPkce, "https://a.example/bye\n").unwrap(),
            ["https://a.example/bye"]
        );
        let e = post_logout_redirect_uris(PublicPkce, "http://a.example/bye").unwrap_err();
        assert!(e
            .field_message("post_logout_redirect_uris")
            .unwrap()
            .starts_with("Line 1: http://a.example/bye"));
        assert!(post_logout_redirect_uris(ClientCredentials, "https://a.example/bye").is_err());
        assert_eq!(first_party(ConfidentialPkce, true), Ok(true));
        assert_eq!(first_party(ClientCredentials, false), Ok(false));
        assert!(first_party(ClientCredentials, true)
            .unwrap_err()
            .field_message("first_party")
            .is_some());
    }

    #[test]
    fn redirect_uri_lists() {
        let two = "https://a.example/cb\n\n  https://b.example/cb  \n";
        assert_eq!(
            redirect_uris(ConfidentialPkce, two).unwrap(),
            ["https://a.example/cb", "https://b.example/cb"]
        );
        let e = redirect_uris(PublicPkce, "").unwrap_err();
        assert!(e
            .field_message("redirect_uris")
            .unwrap()
            .contains("at least one"));
        let e = redirect_uris(PublicPkce, "https://a.example/cb\njavascript:alert(1)").unwrap_err();
        assert!(e
            .field_message("redirect_uris")
            .unwrap()
            .starts_with("Line 2: javascript:alert(1) uses the javascript: scheme"));
        let dup =
            redirect_uris(PublicPkce, "https://a.example/cb\nhttps://a.example/cb").unwrap_err();
        assert!(dup
            .field_message("redirect_uris")
            .unwrap()
            .contains("listed twice"));
        let many: String = (0..=REDIRECT_URIS_MAX)
            .map(|i| format!("https://a.example/{i}\n"))
            .collect();
        assert!(redirect_uris(PublicPkce, &many).is_err());
        let twenty: String = (0..REDIRECT_URIS_MAX)
            .map(|i| format!("https://a.example/{i}\n"))
            .collect();
        assert_eq!(
            redirect_uris(PublicPkce, &twenty).unwrap().len(),
            REDIRECT_URIS_MAX
        );
        assert_eq!(
            redirect_uris(ClientCredentials, "  ").unwrap(),
            Vec::<String>::new()
        );
        assert!(redirect_uris(ClientCredentials, "https://a.example/cb").is_err());
    }

    #[test]
    fn audience_rules() {
        /// What the rule answers: the stored audience, or a part of the field's error.
        type Want = Result<Option<&'static str>, &'static str>;
        // (type, raw, answer)
        let cases: &[(ClientType, &str, Want)] = &[
            (ClientCredentials, "", Ok(None)),
            (ClientCredentials, "   ", Ok(None)),
            (ClientCredentials, " orders-api ", Ok(Some("orders-api"))),
            (
                ClientCredentials,
                "https://api.example.com",
                Ok(Some("https://api.example.com")),
            ),
            (
                ClientCredentials,
                "urn:example:orders",
                Ok(Some("urn:example:orders")),
            ),
            (ClientCredentials, "orders api", Err("not a valid audience")),
            (ClientCredentials, "api\u{0}", Err("not a valid audience")),
            (ClientCredentials, "apí", Err("not a valid audience")),
            (ClientCredentials, "<script>", Ok(Some("<script>"))),
            (ClientCredentials, ":orders", Err("absolute URI")),
            (
                ConfidentialPkce,
                "orders-api",
                Err("Only client-credentials"),
            ),
            (PublicPkce, "orders-api", Err("Only client-credentials")),
            (PublicPkce, "", Ok(None)),
        ];
        for (kind, raw, want) in cases {
            let got = audience(*kind, raw);
            match (want, &got) {
                (Ok(w), Ok(g)) => assert_eq!(g.as_deref(), *w, "{kind:?} {raw:?}"),
                (Err(w), Err(e)) => assert!(
                    e.field_message("audience").unwrap().contains(w),
                    "{kind:?} {raw:?}: {e:?}"
                ),
                _ => panic!("{kind:?} {raw:?}: wanted {want:?}, got {got:?}"),
            }
        }
        let long = "a".repeat(AUDIENCE_MAX_LEN + 1);
        assert!(audience(ClientCredentials, &long).is_err());
        assert!(audience(ClientCredentials, &long[1..]).is_ok());
    }

    #[test]
    fn scope_rules() {
        assert_eq!(
            scopes(ClientCredentials, "read:orders  write:orders\nread:orders").unwrap(),
            ["read:orders", "write:orders"]
        );
        assert_eq!(scopes(ClientCredentials, "a!#[]~").unwrap(), ["a!#[]~"]);
        for bad in [
            "say\"hi\"",
            "back\\slash",
            "caf\u{e9}",
            &"s".repeat(SCOPE_MAX_LEN + 1),
        ] {
            let e = scopes(ClientCredentials, bad).unwrap_err();
            assert!(
                e.field_message("scopes")
                    .unwrap()
                    .contains("not a valid scope"),
                "{bad}"
            );
        }
        assert!(scopes(ClientCredentials, "").is_err());
        assert_eq!(
            scopes(ClientCredentials, "clavis:admin clavis:support").unwrap(),
            ["clavis:admin", "clavis:support"]
        );
        assert_eq!(
            scopes(ClientCredentials, "clavis:introspect").unwrap(),
            ["clavis:introspect"]
        );
        for bad in [
            "clavis:root",
            "clavis:admin reports:read",
            "clavis:introspect clavis:admin",
        ] {
            let e = scopes(ClientCredentials, bad).unwrap_err();
            assert!(e.field_message("scopes").is_some(), "{bad}");
        }
        assert!(scopes(PublicPkce, "read").is_err());
        assert_eq!(scopes(PublicPkce, "").unwrap(), Vec::<String>::new());
        let many: String = (0..=SCOPES_MAX).map(|i| format!("s{i} ")).collect();
        assert!(scopes(ClientCredentials, &many).is_err());
    }

    #[test]
    fn names_and_descriptions() {
        assert_eq!(name("name", "  Orders API  ").unwrap(), "Orders API");
        assert_eq!(
            name("name", "Ｏrders ΑPI").unwrap(),
            "Ｏrders ΑPI",
            "confusables are accepted (shown as text)"
        );
        assert_eq!(
            name("name", "<script>alert(1)</script>").unwrap(),
            "<script>alert(1)</script>"
        );
        assert!(name("name", "").is_err());
        assert!(name("name", "   ").is_err());
        assert!(name("name", &"x".repeat(10_000))
            .unwrap_err()
            .field_message("name")
            .unwrap()
            .contains("at most 100"));
        assert!(name("name", &"é".repeat(NAME_MAX)).is_ok());
        for bad in [
            "tab\there",
            "nul\0",
            "bell\u{7}",
            "rtl\u{202e}override",
            "zero\u{200b}width",
        ] {
            assert!(name("name", bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            description("line one\nline two").unwrap(),
            "line one\nline two"
        );
        assert!(description("esc\u{1b}[31m").is_err());
        assert!(description(&"d".repeat(DESCRIPTION_MAX + 1)).is_err());
    }
}
