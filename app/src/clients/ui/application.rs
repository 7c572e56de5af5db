//! The application picker of the create and edit forms: an existing application, a new one
//! made in the same change, or none. An edit shows the client's own application as chosen,
//! so saving other changes keeps it.

use leptos::prelude::*;

use crate::clients::{ApplicationRef, NAME_MAX, NO_APPLICATION};
use crate::error::AppError;
use crate::ui::{FieldError, LoadError};

pub type Applications = Resource<Result<Vec<ApplicationRef>, AppError>>;

#[component]
pub fn ApplicationPicker(
    apps: Applications,
    /// The client's application now; `None` for a new client or one without.
    current: Option<ApplicationRef>,
    err: Signal<Option<AppError>>,
    /// Makes the ids of the fields unique on the page.
    prefix: &'static str,
) -> impl IntoView {
    let (select_id, new_id, hint_id) = (
        format!("{prefix}-application"),
        format!("{prefix}-new-application"),
        format!("{prefix}-new-application-hint"),
    );
    let current_id = current.as_ref().map(|a| a.id);
    let select_id2 = select_id.clone();
    let current = StoredValue::new(current);
    view! {
        <div class="field">
            <label for=select_id.clone()>"Application"</label>
            <Transition fallback=move || view! {
                <select id=select_id.clone() name="input[application]" disabled>
                    <option value="">"Loading applications…"</option>
                </select>
            }>
                {move || {
                    let select_id = select_id2.clone();
                    Suspend::new(async move {
                        match apps.await {
                            Ok(mut list) => {
                                // A list read before the client moved to a new application may
                                // lack it; it must still be the one chosen.
                                if let Some(c) = current.get_value().filter(|c| !list.contains(c)) {
                                    list.insert(0, c);
                                }
                                view! {
                                <select id=select_id name="input[application]" aria-describedby="application-error">
                                    <option value=NO_APPLICATION selected=current_id.is_none()>"No application"</option>
                                    {list.into_iter().map(|a| {
                                        let chosen = current_id == Some(a.id);
                                        view! { <option value=a.id.to_string() selected=chosen>{a.name}</option> }
                                    }).collect_view()}
                                </select>
                            }.into_any()
                            }
                            // Without the list the choice is left as it is: an empty value
                            // keeps the current application.
                            Err(e) => view! {
                                <select id=select_id name="input[application]">
                                    <option value="">"Unchanged"</option>
                                </select>
                                <LoadError err=e/>
                            }.into_any(),
                        }
                    })
                }}
            </Transition>
            <FieldError err field="application"/>
        </div>
        <div class="field">
            <label for=new_id.clone()>"Or a new application"</label>
            <input id=new_id name="input[new_application]" maxlength=NAME_MAX
                aria-describedby=format!("{hint_id} new_application-error")/>
            <small id=hint_id>"Name a new application to make it together with this client and put the client in it. Leave empty to use the choice above."</small>
            <FieldError err field="new_application"/>
        </div>
    }
}
