//! The authorization endpoint's decisions (`GET` and `POST /oauth2/authorize`): from the
//! request, the person's session and what the person just sent on Clavis's own pages, the
//! next step. The HTTP side (cookies, CSRF, the pages' HTML) is the server's; the rules of the
//! request itself are `authorize::check`.
//!
//! The steps, in order:
//! 1. the request's rules: a fatal error is an error page; another goes back to the app;
//! 2. the person: without a live session (or with `prompt=login`, or a sign-in older than
//!    `max_age`) the sign-in page, or `login_required` for `prompt=none`;
//! 3. consent: asked unless the app is first-party or the person granted these scopes to it
//!    before, and always with `prompt=consent`; `consent_required` for `prompt=none`;
//! 4. a code, back to the app's redirect URI with `state` and `iss` (RFC 9207).

use futures::FutureExt;
use sqlx::Row;

use super::authorize::{self, AuthorizeError, AuthorizeRequest};
use super::grant;
use crate::accounts::password::PasswordHasher;
use crate::audit::service::{self as audit, Event};
use crate::clients::service as clients;
use crate::clients::ClientView;
use crate::error::AppError;
use crate::infra::db::{now_ms, Db};
use crate::infra::settings::Settings;
use crate::infra::{RequestMeta, SvcError, SvcResult};
use crate::people::session::{self, PersonToken, SignedIn};

/// The fields of Clavis's own pages, posted back to the endpoint with the request's
/// parameters; never part of the request the app sent.
pub const OWN_FIELDS: [&str; 5] = ["clavis_action", "username", "password", "csrf", "subject"];

/// What the person did on one of Clavis's pages (a `POST` with a valid CSRF token).
#[derive(Clone, PartialEq, Eq)]
pub enum Action {
    /// Opened the endpoint (a `GET`, or a `POST` from the app).
    None,
    /// CAUTION: holds the password. Never logged.
    SignIn {
        username: String,
        password: String,
    },
    /// Allowed (or denied) on the consent page shown to the person `subject`.
    Allow {
        subject: String,
    },
    Deny {
        subject: String,
    },
}

impl std::fmt::Debug for Action {
    // CAUTION: never the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::None => f.write_str("None"),
            Action::SignIn { username, .. } => f
                .debug_struct("SignIn")
                .field("username", username)
                .finish_non_exhaustive(),
            Action::Allow { subject } => f.debug_struct("Allow").field("subject", subject).finish(),
            Action::Deny { subject } => f.debug_struct("Deny").field("subject", subject).finish(),
        }
    }
}

/// The next step.
pub enum Step {
    /// The request cannot be trusted: an error page (400), never a redirect.
    ErrorPage(&'static str),
    /// A 303 to this URI: a code, or an error, for the app.
    Redirect(String),
    /// The sign-in page, with an error for `field` after a failed attempt.
    SignIn {
        req: AuthorizeRequest,
        client: ClientView,
        username: String,
        error: Option<(&'static str, String)>,
        /// Seconds to wait before a new attempt, when throttled.
        retry_after: Option<u64>,
    },
    /// The consent page.
    Consent {
        req: AuthorizeRequest,
        client: ClientView,
        person: SignedIn,
    },
}

/// A step, and the new session cookie to set when the person just signed in.
pub struct Outcome {
    pub step: Step,
    pub session: Option<PersonToken>,
}

/// A sign-in this recent satisfies `prompt=login` on the pages that follow it (consent).
const FRESH_SIGN_IN_MS: i64 = 5 * 60 * 1000;

/// The state the endpoint needs.
pub struct FlowContext<'a> {
    pub db: &'a Db,
    pub settings: &'a Settings,
    pub hasher: &'a PasswordHasher,
}

fn back(req: &AuthorizeRequest, issuer: &str, params: &[(&str, &str)]) -> Step {
    let mut all: Vec<(&str, &str)> = params.to_vec();
    if let Some(state) = req.state.as_deref() {
        all.push(("state", state));
    }
    all.push(("iss", issuer));
    match authorize::redirect_with(&req.redirect_uri, &all) {
        Some(uri) => Step::Redirect(uri),
        None => Step::ErrorPage("The redirect_uri is not a valid URI."),
    }
}

fn error_back(req: &AuthorizeRequest, issuer: &str, error: &str, description: &str) -> Step {
    back(
        req,
        issuer,
        &[("error", error), ("error_description", description)],
    )
}

/// Decides the next step for the request `pairs` (Clavis's own fields removed), the session
/// `token` (from the cookie), and `action`.
pub async fn decide(
    cx: &FlowContext<'_>,
    meta: &RequestMeta,
    pairs: &[(String, String)],
    token: Option<&str>,
    action: Action,
) -> SvcResult<Outcome> {
    let issuer = cx.settings.issuer.as_str();
    let client_id = pairs
        .iter()
        .find(|(k, _)| k == "client_id")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let client = match clients::get(cx.db, client_id).await {
        Ok(c) => Some(c),
        Err(SvcError::App(AppError::NotFound(_))) => None,
        Err(e) => return Err(e),
    };
    let req = match authorize::check(pairs, client.as_ref()) {
        Ok(r) => r,
        Err(AuthorizeError::Fatal(why)) => return Ok(done(Step::ErrorPage(why))),
        Err(AuthorizeError::Redirect {
            redirect_uri,
            state,
            error,
            description,
        }) => {
            let req = AuthorizeRequest {
                redirect_uri,
                state,
                ..placeholder()
            };
            return Ok(done(error_back(&req, issuer, error, description)));
        }
    };
    let client = client.ok_or_else(|| SvcError::Internal("a checked client is missing".into()))?;
    let now = now_ms();

    // 2. The person.
    let mut new_session = None;
    let mut person = match token {
        Some(t) => session::lookup(cx.db, cx.settings, t).await?,
        None => None,
    };
    let this_request = req.fingerprint();
    if let Action::SignIn { username, password } = &action {
        let signed = session::sign_in(
            cx.db,
            cx.settings,
            cx.hasher,
            meta,
            username,
            password,
            &this_request,
        );
        match signed.await {
            Ok((t, p)) => {
                if let Some(old) = token {
                    session::end(cx.db, old).await?;
                }
                new_session = Some(t);
                person = Some(p);
            }
            Err(e) => return Ok(done(sign_in_failed(req, client, username, e)?)),
        }
    }
    let posted = !matches!(action, Action::None);
    // `prompt=login` is met only by a sign-in on this very request's page, never by another
    // recent one (a consent answer posted for a session opened elsewhere asks for the password).
    let fresh = |p: &SignedIn| {
        posted
            && p.sign_in_request.as_deref() == Some(this_request.as_str())
            && now - p.auth_time < FRESH_SIGN_IN_MS
    };
    let too_old = |p: &SignedIn| {
        req.max_age
            .is_some_and(|m| now - p.auth_time > (m as i64).saturating_mul(1000))
    };
    // A posted answer (consent) to a page shown when the sign-in still met `max_age` is not
    // sent back to sign-in here (that would loop for `max_age=0`): it gets the few minutes a
    // person may spend on the page. Step 4 checks `max_age` again before the code is issued.
    let page_time = |p: &SignedIn| {
        req.max_age.is_some_and(|m| {
            now - p.auth_time <= (m as i64).saturating_mul(1000) + FRESH_SIGN_IN_MS
        })
    };
    let needs_sign_in = match &person {
        None => true,
        Some(p) => (req.prompt.login && !fresh(p)) || (too_old(p) && !(posted && page_time(p))),
    };
    if needs_sign_in {
        if req.prompt.none {
            return Ok(done(error_back(
                &req,
                issuer,
                "login_required",
                "The person must sign in.",
            )));
        }
        return Ok(done(Step::SignIn {
            req,
            client,
            username: String::new(),
            error: None,
            retry_after: None,
        }));
    }
    let person = person.ok_or_else(|| SvcError::Internal("no person after sign-in".into()))?;
    let just_signed_in = new_session.is_some();
    // The session the code will come from: the one just opened, or the cookie's.
    let live = new_session
        .as_ref()
        .map(|t| t.expose().to_string())
        .or(token.map(str::to_string));
    let with = |step| Outcome {
        step,
        session: new_session,
    };

    // 3. Consent. An answer given on the page of someone else (another person signed in in
    // another tab since) counts for nothing: the page is shown again, for who is signed in now.
    let action = match action {
        Action::Allow { subject } | Action::Deny { subject } if subject != person.subject => {
            Action::None
        }
        other => other,
    };
    match action {
        Action::Deny { .. } => {
            record_consent(cx.db, meta, &person, &req, false).await?;
            return Ok(with(error_back(
                &req,
                issuer,
                "access_denied",
                "The person did not allow it.",
            )));
        }
        Action::Allow { .. } => record_consent(cx.db, meta, &person, &req, true).await?,
        _ => {
            let granted = !req.prompt.consent
                && (client.first_party || consented(cx.db, &person, &req).await?);
            if !granted {
                if req.prompt.none {
                    return Ok(with(error_back(
                        &req,
                        issuer,
                        "consent_required",
                        "The person must allow this app first.",
                    )));
                }
                return Ok(with(Step::Consent {
                    req,
                    client,
                    person,
                }));
            }
        }
    }

    // 4. The code. Its ID token's `auth_time` must still meet `max_age` (the app checks it):
    // a consent that took longer asks for the password once more, and the consent just
    // given is kept. With `prompt=consent` that would ask for consent again, without end, so
    // there the time spent on the consent page (at most `FRESH_SIGN_IN_MS`, step 2) counts as
    // part of the sign-in.
    if too_old(&person) && !just_signed_in && !req.prompt.consent {
        return Ok(with(Step::SignIn {
            req,
            client,
            username: person.username,
            error: None,
            retry_after: None,
        }));
    }
    let code = match live.as_deref() {
        Some(live) => grant::issue_code(cx.db, cx.settings, &req, &person, live).await?,
        None => None,
    };
    match code {
        Some(code) => Ok(with(back(&req, issuer, &[("code", &code)]))),
        // The session ended meanwhile (a reset, a disable, a sign-out): no code without one.
        None if req.prompt.none => Ok(done(error_back(
            &req,
            issuer,
            "login_required",
            "The person must sign in.",
        ))),
        None => Ok(done(Step::SignIn {
            req,
            client,
            username: String::new(),
            error: None,
            retry_after: None,
        })),
    }
}

fn done(step: Step) -> Outcome {
    Outcome {
        step,
        session: None,
    }
}

fn placeholder() -> AuthorizeRequest {
    AuthorizeRequest {
        client_id: String::new(),
        redirect_uri: String::new(),
        scopes: Vec::new(),
        state: None,
        code_challenge: String::new(),
        nonce: None,
        prompt: Default::default(),
        max_age: None,
    }
}

/// The sign-in page again after a failed attempt, with one message whatever the cause.
fn sign_in_failed(
    req: AuthorizeRequest,
    client: ClientView,
    username: &str,
    e: SvcError,
) -> SvcResult<Step> {
    let (error, retry_after) = match e {
        SvcError::App(AppError::BadCredentials) => (
            (
                "password",
                "The username or the password is wrong.".to_string(),
            ),
            None,
        ),
        SvcError::App(AppError::Validation { field, message }) => {
            let field = if field == "username" {
                "username"
            } else {
                "password"
            };
            ((field, message), None)
        }
        SvcError::App(AppError::Throttled { retry_after_secs }) => (
            (
                "password",
                format!("Too many failed attempts. Try again in {retry_after_secs} seconds."),
            ),
            Some(retry_after_secs),
        ),
        other => return Err(other),
    };
    Ok(Step::SignIn {
        req,
        client,
        username: username.to_string(),
        error: Some(error),
        retry_after,
    })
}

/// Whether the person granted the app every scope of `req` before.
async fn consented(db: &Db, person: &SignedIn, req: &AuthorizeRequest) -> SvcResult<bool> {
    let row = sqlx::query("SELECT scope FROM consents WHERE person_id = $1 AND client_id = $2")
        .bind(person.person_id)
        .bind(req.client_id.clone())
        .fetch_optional(&db.pool)
        .await?;
    let Some(r) = row else { return Ok(false) };
    let scope: String = r.try_get("scope")?;
    let have: Vec<&str> = scope.split(' ').collect();
    Ok(req.scopes.iter().all(|s| have.contains(&s.as_str())))
}

/// Records the person's answer: `consent.granted` (and the scopes, for next time) or
/// `consent.denied`.
async fn record_consent(
    db: &Db,
    meta: &RequestMeta,
    person: &SignedIn,
    req: &AuthorizeRequest,
    allowed: bool,
) -> SvcResult<()> {
    db.write(|conn| {
        let (meta, person_id, client_id) = (meta.clone(), person.person_id, req.client_id.clone());
        let (scope, actor) = (req.scopes.join(" "), session::actor(&person.username));
        async move {
            if allowed {
                let old: Option<String> = sqlx::query(
                    "SELECT scope FROM consents WHERE person_id = $1 AND client_id = $2",
                )
                .bind(person_id)
                .bind(client_id.clone())
                .fetch_optional(&mut *conn)
                .await?
                .map(|r| r.try_get("scope"))
                .transpose()?;
                let mut all: Vec<String> = old
                    .as_deref()
                    .unwrap_or("")
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                for s in scope.split(' ') {
                    if !all.iter().any(|a| a == s) {
                        all.push(s.to_string());
                    }
                }
                sqlx::query(
                    "INSERT INTO consents (person_id, client_id, scope, granted_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (person_id, client_id) \
                     DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
                )
                .bind(person_id)
                .bind(client_id.clone())
                .bind(all.join(" "))
                .bind(now_ms())
                .execute(&mut *conn)
                .await?;
            }
            let ev = Event {
                actor: &actor,
                action: if allowed {
                    "consent.granted"
                } else {
                    "consent.denied"
                },
                target: Some(&client_id),
                detail: Some(format!("scope {scope}")),
            };
            audit::record(conn, &meta, ev).await
        }
        .boxed()
    })
    .await
}
