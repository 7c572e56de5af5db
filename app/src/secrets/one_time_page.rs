//! The page that shows new secrets when JavaScript is off.
//!
//! A plain form post to a server function that issues secrets (client creation, presets,
//! rotation) would normally be answered with a redirect, which would lose the plaintext: it is
//! never stored, so no later page can show it. This middleware turns the successful answer of
//! such a post into the page itself: the secret once, with the downloads as links, and "Done".
//! Reloading that page re-posts the form, which the browser asks about first. The form's
//! single-use token (`ui::form_token`) makes that repeat change nothing: it is answered with a
//! page that says the secret was already shown, and links to the client. A later visit to any
//! page never contains the plaintext.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Method, StatusCode};
use leptos::prelude::*;
use leptos::tachys::view::RenderHtml;

use super::downloads::{downloads, NOT_SHOWN_AGAIN};
use super::ui::one_time::{ConfigFileLinks, SecretBlock};
use super::{IssuedSecretOnce, OneTimeSecrets};
use crate::error::AppError;
use crate::infra::edge::{no_store_headers, wants_html};
use crate::infra::once::ANSWER_HEADER;
use crate::infra::state::AppState;
use crate::webhooks::ui::SigningSecretBlock;
use crate::webhooks::SigningSecretOnce;

/// The server functions whose answers may carry new plaintexts.
pub const ISSUING_PATHS: &[&str] = &[
    "/api/clients/create",
    "/api/clients/preset",
    "/api/secrets/rotate",
    "/api/secrets/reveal",
    "/api/authorizers/create",
    "/api/webhooks/create",
    "/api/webhooks/rotate_secret",
];

/// Largest answer body read back; answers here are a few hundred bytes.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// One secret on the page: the block the dialog shows too, with the downloads as links.
fn block(i: usize, single: bool, s: IssuedSecretOnce) -> impl IntoView {
    let links = downloads(&s)
        .into_iter()
        .map(|d| {
            let text = if single {
                d.label.to_string()
            } else {
                format!("{} ({})", d.label, s.client_name)
            };
            view! { <a class="button-link" href=d.data_url() download=d.filename>{text}</a> " " }
        })
        .collect_view();
    view! {
        <SecretBlock s i single field=NodeRef::new()>
            <p class="hint">"Select the text to copy it, or download it as a .env file (CLIENT_ID and CLIENT_SECRET), as JSON or as a Kubernetes Secret:"</p>
            <p class="downloads">{links}</p>
        </SecretBlock>
    }
}

fn document(title: &str, stylesheet: &str, body: String) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"/>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\
         <title>{title} · Clavis</title><link rel=\"stylesheet\" href=\"{stylesheet}\"/></head>\
         <body>{body}</body></html>"
    )
}

/// The answer to a form sent again: nothing changed, the secret was shown the first time.
pub fn render_already_applied(href: &str, stylesheet: &str) -> String {
    let href = href.to_string();
    let (link, again) = if href.starts_with("/webhooks/") {
        (
            "Go to the webhook endpoint",
            "Nothing was changed now. If nobody saved that signing secret, rotate it again from the endpoint's page.",
        )
    } else if href.starts_with("/clients?application=") {
        (
            "Go to the application's clients",
            "Nothing was changed now. If nobody saved that secret, rotate the secret again from the client's page.",
        )
    } else {
        (
            "Go to the client",
            "Nothing was changed now. If nobody saved that secret, rotate the secret again from the client's page.",
        )
    };
    let body = view! {
        <main id="main" class="one-time-page">
            <section class="card" aria-labelledby="already-title">
                <h1 id="already-title">"Already done"</h1>
                <p>{AppError::AlreadyApplied { href: href.clone() }.to_string()}</p>
                <p>{again}</p>
                <p class="actions"><a href=href class="button-link primary">{link}</a></p>
            </section>
        </main>
    }
    .to_html();
    document("Already done", stylesheet, body)
}

/// The page of a webhook endpoint's new signing secret. Every value is escaped by the renderer.
pub fn render_signing(s: SigningSecretOnce, stylesheet: &str) -> String {
    let done = s.done_href.clone();
    let body = view! {
        <main id="main" class="one-time-page">
            <SigningSecretBlock s page=true>
                <p class="actions">
                    <a href=done role="button" class="button-link primary">"Done"</a>
                </p>
            </SigningSecretBlock>
        </main>
    }
    .to_html();
    document("Signing secret", stylesheet, body)
}

/// The whole HTML document. Every value is escaped by the renderer.
pub fn render(o: OneTimeSecrets, stylesheet: &str) -> String {
    let single = o.one_time_secrets.len() == 1;
    let title = if single {
        "Client secret"
    } else {
        "Client secrets"
    };
    let done = o.done_href.clone();
    let body = view! {
        <main id="main" class="one-time-page">
            <section class="card one-time" role="dialog" aria-labelledby="one-time-title">
                <h1 id="one-time-title">{title}</h1>
                <p class="warning-text">{NOT_SHOWN_AGAIN}</p>
                {o.one_time_secrets
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| block(i, single, s))
                    .collect_view()}
                <ConfigFileLinks files=o.files title="Configuration with this secret"/>
                // A link, so that it leads exactly to the page (a GET form would add a "?"); it
                // acts as the dialog's closing button.
                <p class="actions">
                    <a href=done role="button" class="button-link primary">"Done"</a>
                </p>
            </section>
        </main>
    }
    .to_html();
    document(title, stylesheet, body)
}

fn html_answer(status: StatusCode, html: String) -> Response {
    let mut res = Response::new(Body::from(html));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    no_store_headers(h);
    // No script on these pages.
    h.insert(
        http::header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::infra::csp::STATIC),
    );
    res
}

fn is_plain_form_post(req: &Request) -> bool {
    req.method() == Method::POST
        && ISSUING_PATHS.contains(&req.uri().path())
        && wants_html(req.headers())
}

/// Middleware: see the module comment. Errors and answers without secrets pass unchanged.
pub async fn middleware(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if !is_plain_form_post(&req) {
        return next.run(req).await;
    }
    let mut res = next.run(req).await;
    if let Some(href) = res.headers_mut().remove(ANSWER_HEADER) {
        let href = href.to_str().unwrap_or("/clients").to_string();
        let html = Owner::new().with(|| render_already_applied(&href, &st.stylesheet));
        return html_answer(StatusCode::CONFLICT, html);
    }
    let failed = res
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|l| l.contains("__err"))
        || !(res.status().is_success() || res.status().is_redirection());
    if failed {
        return res;
    }
    let (parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_ANSWER_BYTES).await {
        Ok(b) => b,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let html = match serde_json::from_slice::<OneTimeSecrets>(&bytes) {
        Ok(o) if !o.one_time_secrets.is_empty() => {
            Some(Owner::new().with(|| render(o, &st.stylesheet)))
        }
        Ok(_) => None,
        Err(_) => serde_json::from_slice::<SigningSecretOnce>(&bytes)
            .ok()
            .map(|s| Owner::new().with(|| render_signing(s, &st.stylesheet))),
    };
    let Some(html) = html else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let mut res = html_answer(StatusCode::OK, html);
    let h = res.headers_mut();
    // Keep the headers the app set (request id, cookies), but not the redirect.
    for (k, v) in parts.headers.iter() {
        if k != LOCATION && k != CONTENT_TYPE && k != http::header::CONTENT_LENGTH {
            h.entry(k).or_insert(v.clone());
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_names_and_holds_every_download() {
        let o = OneTimeSecrets {
            one_time_secrets: vec![IssuedSecretOnce {
                client_id: "abc".into(),
                client_name: "<script>alert(1)</script>".into(),
                secret: "clavis_cs_x".into(),
                hint: "cs_x".into(),
                expires_at: None,
            }],
            done_href: "/clients/abc".into(),
            files: Vec::new(),
        };
        let html = Owner::new().with(|| render(o, "/pkg/clavis.css"));
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("value=\"clavis_cs_x\""), "{html}");
        assert!(html.contains(">Download<"), "{html}");
        assert!(html.contains(">Kubernetes Secret<"), "{html}");
        assert!(
            html.contains("href=\"/clients/abc\" role=\"button\""),
            "{html}"
        );
        assert!(html.contains("will not be shown again"));
    }
}
