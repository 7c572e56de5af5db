//! The pages a person sees at the authorization endpoint (sign-in, consent, an error) and at
//! the logout endpoint (the question, the end of a sign-out). Plain server-rendered HTML forms
//! that work without JavaScript and carry none. Each form posts back to its endpoint with the
//! app's request in hidden fields, so a reload or a failed attempt loses nothing, and with the
//! CSRF token of the page.
//!
//! The HTML is askama templates (`app/templates/oauth/`), checked when the crate compiles, and
//! every value is HTML-escaped by default: no page is joined by hand, so no value can be
//! missed.

use askama::Template;

use super::authorize::AuthorizeRequest;
use crate::clients::ClientView;

/// The path of the pages' stylesheet.
pub const STYLESHEET: &str = "/oauth2/sign-in.css";

/// What each scope lets the app do, in the person's words.
pub fn scope_description(scope: &str) -> &'static str {
    match scope {
        "openid" => "Know who you are (a stable id, never your username)",
        "profile" => "See your name and username",
        "email" => "See your e-mail address",
        "offline_access" => "Stay connected when you are not using it",
        _ => "Something Clavis does not know",
    }
}

/// A page as HTML. Rendering writes into a `String`, which cannot fail; were it ever to, the
/// person gets a plain error page rather than half a form.
fn render(t: &impl Template) -> String {
    t.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "a sign-in page did not render");
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error · Clavis</title></head>\
         <body><h1>Something went wrong at Clavis</h1><p>Try again in a moment.</p></body></html>\n"
            .to_string()
    })
}

/// The scopes of a request, each with its description.
fn asks(req: &AuthorizeRequest) -> Vec<(&'static str, &str)> {
    req.scopes
        .iter()
        .map(|s| (scope_description(s), s.as_str()))
        .collect()
}

fn redirect_host(req: &AuthorizeRequest) -> String {
    url::Url::parse(&req.redirect_uri)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            })
        })
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "oauth/sign_in.html")]
struct SignIn<'a> {
    app: &'a str,
    host: String,
    scopes: Vec<(&'static str, &'a str)>,
    pairs: &'a [(String, String)],
    csrf: &'a str,
    username: &'a str,
    /// The field the error is about (empty: none), and the message.
    error_field: &'a str,
    error_message: &'a str,
    focus_password: bool,
}

/// The sign-in page. `error` is a message for the field it names.
pub fn sign_in(
    req: &AuthorizeRequest,
    client: &ClientView,
    pairs: &[(String, String)],
    csrf: &str,
    username: &str,
    error: Option<(&str, &str)>,
) -> String {
    let (error_field, error_message) = error.unwrap_or(("", ""));
    render(&SignIn {
        app: &client.name,
        host: redirect_host(req),
        scopes: asks(req),
        pairs,
        csrf,
        username,
        error_field,
        error_message,
        focus_password: !username.is_empty(),
    })
}

#[derive(Template)]
#[template(path = "oauth/consent.html")]
struct Consent<'a> {
    app: &'a str,
    person: &'a str,
    subject: &'a str,
    host: String,
    scopes: Vec<(&'static str, &'a str)>,
    pairs: &'a [(String, String)],
    csrf: &'a str,
}

/// The consent page.
pub fn consent(
    req: &AuthorizeRequest,
    client: &ClientView,
    pairs: &[(String, String)],
    csrf: &str,
    person: &crate::people::session::SignedIn,
) -> String {
    render(&Consent {
        app: &client.name,
        person: &person.display_name,
        subject: &person.subject,
        host: redirect_host(req),
        scopes: asks(req),
        pairs,
        csrf,
    })
}

#[derive(Template)]
#[template(path = "oauth/error.html")]
struct ErrorPage<'a> {
    message: &'a str,
}

/// An error page: the request cannot be answered by a redirect.
pub fn error(message: &str) -> String {
    render(&ErrorPage { message })
}

#[derive(Template)]
#[template(path = "oauth/signed_out.html")]
struct SignedOut;

/// The end of a sign-out without a way back to an app.
pub fn signed_out() -> String {
    render(&SignedOut)
}

#[derive(Template)]
#[template(path = "oauth/sign_out_confirm.html")]
struct SignOutConfirm<'a> {
    person: &'a str,
    app: Option<&'a str>,
    pairs: &'a [(String, String)],
    csrf: &'a str,
}

/// The question of RP-initiated logout when the request cannot show that it comes from the
/// app the person signed in to (no `id_token_hint`, or one about someone else): a link on
/// any site could otherwise sign people out. `app` is the app's name, when the request
/// names one; `pairs` the request to carry on.
pub fn sign_out_confirm(
    person: &str,
    app: Option<&str>,
    pairs: &[(String, String)],
    csrf: &str,
) -> String {
    render(&SignOutConfirm {
        person,
        app,
        pairs,
        csrf,
    })
}

#[derive(Template)]
#[template(path = "oauth/still_signed_in.html")]
struct StillSignedIn;

/// The end of a declined sign-out without a way back to an app.
pub fn still_signed_in() -> String {
    render(&StillSignedIn)
}

/// The pages' stylesheet.
pub const CSS: &str = "\
body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1b1f24;margin:0;\
display:flex;justify-content:center;padding:3rem 1rem}\
.card{background:#fff;border:1px solid #d0d5dc;border-radius:8px;max-width:26rem;width:100%;\
padding:1.5rem 2rem}\
h1{font-size:1.4rem;margin-top:0}\
label{display:block;font-weight:600;margin-top:1rem}\
input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #8a939e;\
border-radius:4px}\
input[aria-invalid=true]{border-color:#b3261e}\
.field-error{color:#b3261e;margin:.25rem 0 0}\
button{margin-top:1.25rem;padding:.55rem 1.2rem;font-size:1rem;border-radius:4px;\
border:1px solid #1f5fbf;background:#1f5fbf;color:#fff;cursor:pointer}\
button.secondary{background:#fff;color:#1f5fbf;margin-left:.5rem}\
button:focus-visible,input:focus-visible{outline:3px solid #f0b400;outline-offset:2px}\
.scopes{padding-left:1.2rem}code{font-size:.9em}\n";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::kind::ClientType;
    use crate::oauth::authorize::Prompt;

    const MARKUP: &str = "\"><script>alert(1)</script><b x='y'>";

    fn request() -> AuthorizeRequest {
        AuthorizeRequest {
            client_id: "c1".into(),
            redirect_uri: "https://app.example/cb".into(),
            scopes: vec!["openid".into(), format!("orders{MARKUP}")],
            state: Some(format!("s{MARKUP}")),
            code_challenge: "x".into(),
            nonce: None,
            prompt: Prompt::default(),
            max_age: None,
        }
    }

    fn client() -> ClientView {
        ClientView {
            name: format!("Shop{MARKUP}"),
            ..crate::oauth::authorize::tests::client(ClientType::PublicPkce)
        }
    }

    /// What a browser reads from escaped text.
    fn unescape(s: &str) -> String {
        s.replace("&#34;", "\"")
            .replace("&#39;", "'")
            .replace("&#60;", "<")
            .replace("&#62;", ">")
            .replace("&#38;", "&")
    }

    /// No page carries the markup as markup, and each shows it as text.
    fn escaped(html: &str) {
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b x="), "{html}");
        assert!(!html.contains("='y'"), "{html}");
        assert!(unescape(html).contains(MARKUP), "{html}");
    }

    #[test]
    fn markup_in_a_name_a_scope_or_state_is_escaped_on_every_page() {
        let req = request();
        let c = client();
        let pairs = vec![
            ("client_id".to_string(), "c1".to_string()),
            ("state".to_string(), req.state.clone().unwrap_or_default()),
        ];
        let person = crate::people::session::SignedIn {
            person_id: 1,
            subject: format!("p{MARKUP}"),
            username: "ada".into(),
            display_name: format!("Ada{MARKUP}"),
            email: String::new(),
            auth_time: 0,
            sign_in_request: None,
        };
        let error_msg = format!("Wrong{MARKUP}");
        let pages = [
            sign_in(
                &req,
                &c,
                &pairs,
                "t",
                &format!("ada{MARKUP}"),
                Some(("password", &error_msg)),
            ),
            sign_in(&req, &c, &pairs, "t", "", Some(("username", &error_msg))),
            consent(&req, &c, &pairs, "t", &person),
            error(&error_msg),
            sign_out_confirm(&person.display_name, Some(&c.name), &pairs, "t"),
        ];
        for html in &pages {
            escaped(html);
        }
        // The values are there, escaped, where they belong.
        assert!(
            unescape(&pages[0]).contains(&format!("name=\"state\" value=\"s{MARKUP}\"")),
            "{}",
            pages[0]
        );
        assert!(
            unescape(&pages[2]).contains(&format!("<h1>Allow Shop{MARKUP}?</h1>")),
            "{}",
            pages[2]
        );
        assert!(
            unescape(&pages[2]).contains(&format!("<code>orders{MARKUP}</code>")),
            "{}",
            pages[2]
        );
    }

    #[test]
    fn the_error_of_a_field_is_next_to_it() {
        let html = sign_in(
            &request(),
            &client(),
            &[],
            "t",
            "ada",
            Some(("password", "That is not it.")),
        );
        assert!(
            html.contains("aria-describedby=\"password-error\""),
            "{html}"
        );
        assert!(
            html.contains(
                "<p class=\"field-error\" id=\"password-error\" role=\"alert\">That is not it.</p>"
            ),
            "{html}"
        );
        assert!(!html.contains("username-error"), "{html}");
        // The password field gets the focus once a username was given.
        assert!(html.contains("autocomplete=\"current-password\" required aria-invalid=\"true\" aria-describedby=\"password-error\" autofocus>"), "{html}");
    }
}
