//! Console sign-in in the browser: the sign-in page, the shared `AuthCtx` (who is signed in,
//! and the sign-out action), and `Guarded`, which shows a page only to the roles it is for.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use super::api::{current_user, Login, Logout};
use super::Me;
use crate::accounts::{PASSWORD_MAX, USERNAME_MAX};
use crate::error::AppError;
use crate::ui::{FieldError, Forbidden, FormError, LoadError};

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
    reload_on_success(login, "/overview");
    let value = login.value();
    let err = Signal::derive(move || value.get().and_then(Result::err));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(auth.me.await, Ok(Some(_))).then(|| view! { <Redirect path="/overview"/> })
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

/// Renders `children` only for a signed-in account (an admin when `admin` is set). Others are
/// sent to the sign-in page or told that their role does not allow the page. The server
/// functions behind the page check again; this only decides what to show.
#[component]
pub fn Guarded(#[prop(optional)] admin: bool, children: ChildrenFn) -> impl IntoView {
    let auth = expect_context::<AuthCtx>();
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match auth.me.await {
                        Ok(Some(me)) if !admin || me.is_admin() => children().into_any(),
                        Ok(Some(_)) => view! { <Forbidden/> }.into_any(),
                        Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                        Err(e) => view! { <LoadError err=e/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
