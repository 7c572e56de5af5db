//! The Accounts page (administrators only): list, create, change role, disable and enable,
//! reset password. The rules (last active admin, password policy) live in `ssr::accounts`.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{fmt_time, AccountView, Role, PASSWORD_MAX, PASSWORD_MIN, USERNAME_MAX};
use crate::ui::{FieldError, FormError, Guarded};

#[server(endpoint = "accounts/list")]
pub async fn list_accounts() -> Result<Vec<AccountView>, AppError> {
    use crate::ssr::{accounts, edge};
    edge::edge(async move {
        let (st, _, _) = edge::authorize(Some(Role::Admin)).await?;
        accounts::list(&st.db).await
    })
    .await
}

#[server(endpoint = "accounts/create")]
pub async fn create_account(username: String, password: String, role: String) -> Result<AccountView, AppError> {
    use crate::ssr::{accounts, edge};
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let role: Role = role.parse()?;
        accounts::create(&st.db, &st.passwords, &me.username, &meta, &username, &password, role).await
    })
    .await
}

#[server(endpoint = "accounts/role")]
pub async fn change_role(id: i64, role: String) -> Result<AccountView, AppError> {
    use crate::ssr::{accounts, edge};
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        let role: Role = role.parse()?;
        accounts::change_role(&st.db, &me.username, &meta, id, role).await
    })
    .await
}

#[server(endpoint = "accounts/disabled")]
pub async fn set_account_disabled(id: i64, disabled: bool) -> Result<AccountView, AppError> {
    use crate::ssr::{accounts, edge};
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        accounts::set_disabled(&st.db, &me.username, &meta, id, disabled).await
    })
    .await
}

#[server(endpoint = "accounts/password")]
pub async fn reset_password(id: i64, password: String) -> Result<AccountView, AppError> {
    use crate::ssr::{accounts, edge};
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(Role::Admin)).await?;
        accounts::reset_password(&st.db, &st.passwords, &me.username, &meta, id, &password).await
    })
    .await
}

#[component]
pub fn AccountsPage() -> impl IntoView {
    view! {
        <Guarded admin=true>
            <Accounts/>
        </Guarded>
    }
}

/// The last finished action's outcome, as a sentence for the status line.
fn outcome<S>(action: ServerAction<S>, say: fn(&AccountView) -> String) -> Signal<Option<Result<String, AppError>>>
where
    S: server_fn::ServerFn<Output = AccountView, Error = AppError> + Clone + Send + Sync + 'static,
{
    let value = action.value();
    Signal::derive(move || value.get().map(|r| r.map(|a| say(&a))))
}

#[component]
fn Accounts() -> impl IntoView {
    let create = ServerAction::<CreateAccount>::new();
    let change = ServerAction::<ChangeRole>::new();
    let toggle = ServerAction::<SetAccountDisabled>::new();
    let reset = ServerAction::<ResetPassword>::new();
    let accounts = Resource::new(
        move || {
            (
                create.version().get(),
                change.version().get(),
                toggle.version().get(),
                reset.version().get(),
            )
        },
        |_| list_accounts(),
    );
    let create_err = Signal::derive(move || create.value().get().and_then(Result::err));
    let outcomes = [
        outcome(create, |a| format!("Account {} created.", a.username)),
        outcome(change, |a| format!("{} is now {}.", a.username, a.role.label())),
        outcome(toggle, |a| {
            format!("{} is now {}.", a.username, if a.disabled { "disabled" } else { "enabled" })
        }),
        outcome(reset, |a| format!("The password of {} was reset; their sessions ended.", a.username)),
    ];
    let row_error = move || {
        outcomes[1..]
            .iter()
            .find_map(|o| o.get().and_then(Result::err))
            .map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })
    };
    let status = move || outcomes.iter().find_map(|o| o.get().and_then(Result::ok));

    view! {
        <h1>"Accounts"</h1>
        <p class="lede">
            "Administrators manage clients, secrets and accounts. Support staff can look at clients and "
            "secret metadata and revoke rotated secrets, and nothing more."
        </p>
        <p class="status" role="status">{status}</p>
        {row_error}
        <section class="card" aria-labelledby="new-account-title">
            <h2 id="new-account-title">"New account"</h2>
            <ActionForm action=create attr:class="inline-form">
                <div class="field">
                    <label for="new-username">"Username"</label>
                    <input id="new-username" name="username" required maxlength=USERNAME_MAX
                        autocomplete="off" aria-describedby="new-username-error"/>
                    <FieldError err=create_err field="username" id="new-username-error"/>
                </div>
                <div class="field">
                    <label for="new-password">"Password"</label>
                    <input id="new-password" name="password" type="password" required
                        minlength=PASSWORD_MIN maxlength=PASSWORD_MAX autocomplete="new-password"
                        aria-describedby="new-password-error new-password-rule"/>
                    <small id="new-password-rule">{format!("{PASSWORD_MIN} to {PASSWORD_MAX} characters.")}</small>
                    <FieldError err=create_err field="password" id="new-password-error"/>
                </div>
                <div class="field">
                    <label for="new-role">"Role"</label>
                    <select id="new-role" name="role">
                        <option value="support">"Support"</option>
                        <option value="admin">"Administrator"</option>
                    </select>
                    <FieldError err=create_err field="role" id="new-role-error"/>
                </div>
                <FormError err=create_err/>
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Create account"</button>
            </ActionForm>
        </section>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading accounts…"</p> }>
            {move || Suspend::new(async move {
                match accounts.await {
                    Ok(list) => view! { <AccountTable list change toggle reset/> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AccountTable(
    list: Vec<AccountView>,
    change: ServerAction<ChangeRole>,
    toggle: ServerAction<SetAccountDisabled>,
    reset: ServerAction<ResetPassword>,
) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|a| {
            let id = a.id;
            let name = a.username.clone();
            let (name1, name2, name3) = (name.clone(), name.clone(), name.clone());
            let other_role = if a.role == Role::Admin { Role::Support } else { Role::Admin };
            view! {
                <tr>
                    <th scope="row">{a.username.clone()}</th>
                    <td>{a.role.label()}</td>
                    <td>{if a.disabled { "Disabled" } else { "Active" }}</td>
                    <td>{a.last_sign_in_at.map(fmt_time).unwrap_or_else(|| "Never".into())}</td>
                    <td class="actions">
                        <ActionForm action=change>
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="role" value=other_role.as_str()/>
                            <button type="submit" aria-label=format!("Make {name1} {}", other_role.label())>
                                {format!("Make {}", other_role.label())}
                            </button>
                        </ActionForm>
                        {if a.disabled {
                            view! {
                                <ActionForm action=toggle>
                                    <input type="hidden" name="id" value=id/>
                                    <input type="hidden" name="disabled" value="false"/>
                                    <button type="submit" aria-label=format!("Enable {name2}")>"Enable"</button>
                                </ActionForm>
                            }
                                .into_any()
                        } else {
                            view! {
                                <details class="confirm">
                                    <summary aria-label=format!("Disable {name2}…")>"Disable…"</summary>
                                    <p>{format!("Disable {name2}? Their sessions end at once and they cannot sign in until enabled again.")}</p>
                                    <ActionForm action=toggle>
                                        <input type="hidden" name="id" value=id/>
                                        <input type="hidden" name="disabled" value="true"/>
                                        <button type="submit" class="danger" aria-label=format!("Confirm disable {name2}")>
                                            "Confirm disable"
                                        </button>
                                    </ActionForm>
                                </details>
                            }
                                .into_any()
                        }}
                        <details class="confirm">
                            <summary aria-label=format!("Reset password of {name3}…")>"Reset password…"</summary>
                            <ActionForm action=reset>
                                <input type="hidden" name="id" value=id/>
                                <label for=format!("pw-{id}")>{format!("New password for {name3}")}</label>
                                <input id=format!("pw-{id}") name="password" type="password" required
                                    minlength=PASSWORD_MIN maxlength=PASSWORD_MAX autocomplete="new-password"/>
                                <button type="submit" aria-label=format!("Set password of {name}")>"Set password"</button>
                            </ActionForm>
                        </details>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="data">
            <caption class="visually-hidden">"Accounts"</caption>
            <thead>
                <tr>
                    <th scope="col">"Username"</th>
                    <th scope="col">"Role"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Last sign-in"</th>
                    <th scope="col">"Actions"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
