//! The pages a person sees at the authorization endpoint (sign-in, consent, an error) and at
//! the logout endpoint (the question, the end of a sign-out). Plain server-rendered HTML forms
//! that work without JavaScript and carry none; every value is HTML-escaped. Each form posts
//! back to its endpoint with the app's request in hidden fields, so a reload or a failed
//! attempt loses nothing, and with the CSRF token of the page.

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

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

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Clavis</title><link rel=\"stylesheet\" href=\"{STYLESHEET}\"></head>\
         <body><main class=\"card\">{body}</main></body></html>\n",
        text(title)
    )
}

/// The app's request as hidden fields, in the order it was sent.
fn hidden(pairs: &[(String, String)], csrf: &str) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        out.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            attr(k),
            attr(v)
        ));
    }
    out.push_str(&format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        attr(csrf)
    ));
    out
}

fn asks(req: &AuthorizeRequest) -> String {
    let items: String = req
        .scopes
        .iter()
        .map(|s| {
            format!(
                "<li>{} <code>{}</code></li>",
                text(scope_description(s)),
                text(s)
            )
        })
        .collect();
    format!("<ul class=\"scopes\">{items}</ul>")
}

fn app_line(client: &ClientView, host: &str) -> String {
    format!(
        "<p class=\"app\"><strong>{}</strong> asks you to sign in. It will get you back at \
         <code>{}</code>.</p>",
        text(&client.name),
        text(host)
    )
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

/// The sign-in page. `error` is a message for the field it names.
pub fn sign_in(
    req: &AuthorizeRequest,
    client: &ClientView,
    pairs: &[(String, String)],
    csrf: &str,
    username: &str,
    error: Option<(&str, &str)>,
) -> String {
    let message = |field: &str| match error {
        Some((f, m)) if f == field => format!(
            "<p class=\"field-error\" id=\"{field}-error\" role=\"alert\">{}</p>",
            text(m)
        ),
        _ => String::new(),
    };
    let invalid = |field: &str| match error {
        Some((f, _)) if f == field => {
            format!(" aria-invalid=\"true\" aria-describedby=\"{field}-error\"")
        }
        _ => String::new(),
    };
    let focus_password = !username.is_empty();
    let body = format!(
        "<h1>Sign in</h1>{app}<p>It asks to:</p>{asks}\
         <form method=\"post\" action=\"/oauth2/authorize\">{hidden}\
         <label for=\"username\">Username</label>\
         <input id=\"username\" name=\"username\" autocomplete=\"username\" required \
         value=\"{user}\"{user_invalid}{user_focus}>{user_msg}\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" \
         autocomplete=\"current-password\" required{pw_invalid}{pw_focus}>{pw_msg}\
         <button type=\"submit\" name=\"clavis_action\" value=\"sign_in\">Sign in</button>\
         </form>",
        app = app_line(client, &redirect_host(req)),
        asks = asks(req),
        hidden = hidden(pairs, csrf),
        user = attr(username),
        user_invalid = invalid("username"),
        user_focus = if focus_password { "" } else { " autofocus" },
        user_msg = message("username"),
        pw_invalid = invalid("password"),
        pw_focus = if focus_password { " autofocus" } else { "" },
        pw_msg = message("password"),
    );
    page("Sign in", &body)
}

/// The consent page.
pub fn consent(
    req: &AuthorizeRequest,
    client: &ClientView,
    pairs: &[(String, String)],
    csrf: &str,
    person: &crate::people::session::SignedIn,
) -> String {
    let body = format!(
        "<h1>Allow {name}?</h1>\
         <p>You are signed in as <strong>{person}</strong>. <strong>{name}</strong> asks to:</p>\
         {asks}<p>It will get you back at <code>{host}</code>.</p>\
         <form method=\"post\" action=\"/oauth2/authorize\">{hidden}\
         <input type=\"hidden\" name=\"subject\" value=\"{subject}\">\
         <div class=\"actions\">\
         <button type=\"submit\" name=\"clavis_action\" value=\"allow\" autofocus>Allow</button>\
         <button type=\"submit\" name=\"clavis_action\" value=\"deny\" class=\"secondary\">\
         Deny</button></div></form>",
        name = text(&client.name),
        person = text(&person.display_name),
        subject = attr(&person.subject),
        asks = asks(req),
        host = text(&redirect_host(req)),
        hidden = hidden(pairs, csrf),
    );
    page("Allow access", &body)
}

/// An error page: the request cannot be answered by a redirect.
pub fn error(message: &str) -> String {
    let body = format!(
        "<h1>This sign-in cannot go on</h1><p role=\"alert\">{}</p>\
         <p>Go back to the app and start again. If it happens again, tell the app's \
         administrator.</p>",
        text(message)
    );
    page("Sign-in error", &body)
}

/// The end of a sign-out without a way back to an app.
pub fn signed_out() -> String {
    page(
        "Signed out",
        "<h1>You are signed out</h1><p>You can close this page.</p>",
    )
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
    let asking = match app {
        Some(name) => format!("<strong>{}</strong> asks to sign you out.", text(name)),
        None => "A page asks to sign you out.".to_string(),
    };
    let body = format!(
        "<h1>Sign out?</h1><p>You are signed in as <strong>{person}</strong>. {asking} \
         Signing out here signs you out of every app that uses this sign-in.</p>\
         <form method=\"post\" action=\"/oauth2/logout\">{hidden}\
         <div class=\"actions\">\
         <button type=\"submit\" name=\"clavis_action\" value=\"sign_out\" autofocus>Sign out\
         </button><button type=\"submit\" name=\"clavis_action\" value=\"stay\" \
         class=\"secondary\">Stay signed in</button></div></form>",
        person = text(person),
        hidden = hidden(pairs, csrf),
    );
    page("Sign out?", &body)
}

/// The end of a declined sign-out without a way back to an app.
pub fn still_signed_in() -> String {
    page(
        "Still signed in",
        "<h1>You are still signed in</h1><p>You can close this page.</p>",
    )
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

    #[test]
    fn values_are_escaped() {
        let pairs = vec![("state".to_string(), "\"><script>x</script>".to_string())];
        let html = hidden(&pairs, "t");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&quot;&gt;&lt;script&gt;"), "{html}");
        assert!(!error("<b>").contains("<b>"));
    }
}
