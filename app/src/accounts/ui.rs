//! The Accounts page (administrators only): list, create, change role, disable and enable,
//! reset password. The rules (last active admin, password policy) live in `service`.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api::{list_accounts, ChangeRole, CreateAccount, ResetPassword, SetAccountDisabled};
use super::{AccountView, Done, Role, PASSWORD_MAX, PASSWORD_MIN, USERNAME_MAX};
use crate::error::AppError;
use crate::signin::ui::Guarded;
use crate::ui::{fmt_time, Confirm, FieldError, LoadError};

/// The page's actions and its read of the accounts.
#[derive(Clone, Copy)]
struct AccountsState {
    create: ServerAction<CreateAccount>,
    change: ServerAction<ChangeRole>,
    toggle: ServerAction<SetAccountDisabled>,
    reset: ServerAction<ResetPassword>,
    accounts: Resource<Result<Vec<AccountView>, AppError>>,
}

#[component]
pub fn AccountsPage() -> impl IntoView {
    // Made here, before `Guarded`: see `clients::ui::list::ClientsPage`.
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
    let st = AccountsState {
        create,
        change,
        toggle,
        reset,
        accounts,
    };
    view! {
        <Guarded admin=true>
            <Accounts st/>
        </Guarded>
    }
}

type Outcome = (Done, Result<String, AppError>);

/// Records the outcome of `action` in `latest` whenever it finishes (in the browser).
fn track<S>(action: ServerAction<S>, done: Done, latest: RwSignal<Option<Outcome>>)
where
    S: server_fn::ServerFn<Output = AccountView, Error = AppError> + Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if let Some(r) = action.value().get() {
            let outcome = match r {
                // One action both disables and enables; the account says which happened.
                Ok(a) if done == Done::Disabled && !a.disabled => {
                    (Done::Enabled, Ok(Done::Enabled.text(&a.username, a.role)))
                }
                Ok(a) => (done, Ok(done.text(&a.username, a.role))),
                Err(e) => (done, Err(e)),
            };
            latest.set(Some(outcome));
        }
    });
}

#[component]
fn Accounts(st: AccountsState) -> impl IntoView {
    let AccountsState {
        create,
        change,
        toggle,
        reset,
        accounts,
    } = st;
    let create_err = Signal::derive(move || create.value().get().and_then(Result::err));
    // A created account's password must not linger in the form.
    let create_form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            if let Some(form) = create_form.get() {
                form.reset();
            }
        }
    });

    // The status line shows the latest outcome: tracked in the browser; on a server-rendered
    // page it comes from the error a failed form post carries, or from `?done=` after success.
    let latest = RwSignal::new(None::<Outcome>);
    track(create, Done::Created, latest);
    track(change, Done::Role, latest);
    track(toggle, Done::Disabled, latest);
    track(reset, Done::Password, latest);
    let query = use_query_map();
    let outcome = move || {
        latest.get().or_else(|| {
            let failed = [
                (Done::Created, create.value().get()),
                (Done::Role, change.value().get()),
                (Done::Disabled, toggle.value().get()),
                (Done::Password, reset.value().get()),
            ];
            failed
                .into_iter()
                .find_map(|(d, v)| v.and_then(Result::err).map(|e| (d, Err(e))))
                .or_else(|| {
                    let q = query.read();
                    let done = Done::ALL
                        .into_iter()
                        .find(|d| q.get("done").as_deref() == Some(d.key()))?;
                    let role = q.get("role").and_then(|r| r.parse().ok())?;
                    Some((done, Ok(done.text(&q.get("who")?, role))))
                })
        })
    };
    let status = move || outcome().and_then(|(_, r)| r.ok());
    // Field errors of the creation form show next to their field; every other error shows here.
    let row_error = move || {
        outcome()
            .and_then(|(d, r)| r.err().map(|e| (d, e)))
            .filter(|(d, e)| {
                *d != Done::Created
                    || e.field_message("form").is_some()
                    || !matches!(e, AppError::Validation { .. })
            })
            .map(|(_, e)| view! { <LoadError err=e/> })
    };

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
            <ActionForm action=create node_ref=create_form attr:class="inline-form">
                <div class="field">
                    <label for="new-username">"Username"</label>
                    <input id="new-username" name="username" required maxlength=USERNAME_MAX
                        autocomplete="off" aria-describedby="new-username-error"/>
                    <FieldError err=create_err field="username" id="new-username-error"/>
                </div>
                <div class="field">
                    <label for="new-password">"Password"</label>
                    <input id="new-password" name="password" type="password" required
                        maxlength=PASSWORD_MAX autocomplete="new-password"
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
                                <button type="submit" class="primary" disabled=move || create.pending().get()>"Create account"</button>
            </ActionForm>
        </section>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading accounts…"</p> }>
            {move || Suspend::new(async move {
                match accounts.await {
                    Ok(list) => view! { <AccountTable list change toggle reset/> }.into_any(),
                    Err(e) => view! { <LoadError err=e/> }.into_any(),
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
                        <Confirm summary=format!("Make {}…", other_role.label()) label=format!("Make {}: {name1}", other_role.label())
                            text=match other_role {
                                Role::Admin => format!("Make {name1} an administrator? They can then change clients, secrets and accounts."),
                                Role::Support => format!("Make {name1} support staff? They can then only look, and revoke rotated secrets."),
                            }>
                            <ActionForm action=change>
                                <input type="hidden" name="id" value=id/>
                                <input type="hidden" name="role" value=other_role.as_str()/>
                                <button type="submit">{format!("Make {name1} {}", other_role.label())}</button>
                            </ActionForm>
                        </Confirm>
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
                                    maxlength=PASSWORD_MAX autocomplete="new-password"/>
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
