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
        let (token, _) =
            accounts::sign_in(&st.db, &st.settings, &st.passwords, &st.metrics, &meta, &username, &password).await?;
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            let cookie = session::set_cookie(&st.settings, &token);
            if let Ok(v) = http::HeaderValue::from_str(&cookie) {
                res.append_header(http::header::SET_COOKIE, v);
            }
        }
        leptos_axum::redirect("/clients");
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
        if let Some(token) = parts.as_ref().and_then(|p| session::token_from_headers(&p.headers)) {
            accounts::sign_out(&st.db, &meta, &token, &who).await?;
        }
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(v) = http::HeaderValue::from_str(&session::clear_cookie(&st.settings)) {
                res.append_header(http::header::SET_COOKIE, v);
            }
        }
        leptos_axum::redirect("/login");
        Ok(())
    })
    .await
}

/// The signed-in account, or `None`. Never fails for a missing session.
#[server(endpoint = "me")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    use crate::ssr::edge;
    edge::edge(async move {
        Ok(edge::current_session()
            .await?
            .map(|s| Me { username: s.username, role: s.role }))
    })
    .await
}

/// Shared by the header and every page: the sign-in/out actions and the current user.
#[derive(Clone, Copy)]
pub struct AuthCtx {
    pub login: ServerAction<Login>,
    pub logout: ServerAction<Logout>,
    pub me: Resource<Result<Option<Me>, AppError>>,
}

impl AuthCtx {
    /// Must be called inside `<Router>`, so that errors from plain form posts are picked up.
    pub fn provide() -> AuthCtx {
        let login = ServerAction::<Login>::new();
        let logout = ServerAction::<Logout>::new();
        let me = Resource::new(
            move || (login.version().get(), logout.version().get()),
            |_| current_user(),
        );
        let ctx = AuthCtx { login, logout, me };
        provide_context(ctx);
        ctx
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = expect_context::<AuthCtx>();
    let value = auth.login.value();
    let err = Signal::derive(move || value.get().and_then(Result::err));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(auth.me.await, Ok(Some(_))).then(|| view! { <Redirect path="/clients"/> })
            })}
        </Suspense>
        <section class="card narrow" aria-labelledby="signin-title">
            <h1 id="signin-title">"Sign in to Clavis"</h1>
            <ActionForm action=auth.login>
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
                <button type="submit" class="primary" disabled=move || auth.login.pending().get()>
                    "Sign in"
                </button>
            </ActionForm>
        </section>
    }
}
