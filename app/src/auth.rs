//! Signing in and out, and who is signed in.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::error::AppError;
use crate::model::{Me, PASSWORD_MAX, USERNAME_MAX};
use crate::ui::{FieldError, FormError};

#[server(endpoint = "login")]
pub async fn login(username: String, password: String) -> Result<(), AppError> {
    use crate::ssr::{accounts, edge, session};
    edge::edge(async move {
        let st = edge::state()?;
        let meta = edge::meta()?;
        let (token, _) = accounts::sign_in(
            &st.db,
            &st.settings,
            &st.passwords,
            &st.metrics,
            &meta,
            &username,
            &password,
        )
        .await?;
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            let cookie = session::set_cookie(&st.settings, &token);
            if let Ok(v) = http::HeaderValue::from_str(&cookie) {
                res.append_header(http::header::SET_COOKIE, v);
            }
        }
        edge::redirect_plain_form("/clients");
        Ok(())
    })
    .await
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::ssr::{accounts, edge, session};
    edge::edge(async move {
        let (st, who, meta) = edge::authorize(None).await?;
        let parts = use_context::<http::request::Parts>();
        if let Some(token) = parts
            .as_ref()
            .and_then(|p| session::token_from_headers(&p.headers))
        {
            accounts::sign_out(&st.db, &meta, &token, &who).await?;
        }
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(v) = http::HeaderValue::from_str(&session::clear_cookie(&st.settings)) {
                res.append_header(http::header::SET_COOKIE, v);
            }
        }
        edge::redirect_plain_form("/login");
        Ok(())
    })
    .await
}

/// The signed-in account, or `None`. Never fails for a missing session.
#[server(endpoint = "me")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    use crate::ssr::edge;
    edge::edge(async move {
        Ok(edge::current_session().await?.map(|s| Me {
            username: s.username,
            role: s.role,
        }))
    })
    .await
}

/// Shared by the header and every page: the sign-out action and the current user.
///
/// Signing in or out changes who is looking at every part of the page, so with JavaScript both
/// end in a full page load (without it, the server's redirect does the same).
#[derive(Clone, Copy)]
pub struct AuthCtx {
    pub logout: ServerAction<Logout>,
    pub me: Resource<Result<Option<Me>, AppError>>,
}

impl AuthCtx {
    pub fn provide() -> AuthCtx {
        let logout = ServerAction::<Logout>::new();
        let me = Resource::new(|| (), |_| current_user());
        reload_on_success(logout, "/login");
        let ctx = AuthCtx { logout, me };
        provide_context(ctx);
        ctx
    }
}

impl AuthCtx {
    /// True once the signed-in account is known to be an administrator.
    pub fn is_admin(&self) -> bool {
        matches!(self.me.get(), Some(Ok(Some(me))) if me.is_admin())
    }
}

/// After `action` succeeds in the browser, loads `path` afresh.
fn reload_on_success<S>(action: ServerAction<S>, path: &'static str)
where
    S: server_fn::ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(()))) {
            let _ = window().location().set_href(path);
        }
    });
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = expect_context::<AuthCtx>();
    // Created inside the route, so that an error from a plain form post (no JavaScript) shows.
    let login = ServerAction::<Login>::new();
    reload_on_success(login, "/clients");
    let value = login.value();
    let err = Signal::derive(move || value.get().and_then(Result::err));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(auth.me.await, Ok(Some(_))).then(|| view! { <Redirect path="/clients"/> })
            })}
        </Suspense>
        <section class="card narrow" aria-labelledby="signin-title">
            <h1 id="signin-title">"Sign in to Clavis"</h1>
            <ActionForm action=login>
                <div class="field">
                    <label for="username">"Username"</label>
                    <input id="username" name="username" type="text" autocomplete="username"
                        required maxlength=USERNAME_MAX autofocus
                        aria-describedby="username-error"/>
                    <FieldError err=err field="username"/>
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password"
                        required maxlength=PASSWORD_MAX aria-describedby="password-error"/>
                    <FieldError err=err field="password"/>
                </div>
                <FormError err=err/>
                <button type="submit" class="primary" disabled=move || login.pending().get()>
                    "Sign in"
                </button>
            </ActionForm>
        </section>
    }
}
