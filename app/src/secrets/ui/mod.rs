//! The secrets' components.
//!
//! - `panel`: the secrets panel of a client's (or an authorizer's) page.
//! - `expiry`: a secret's expiry and share of requests in words, and the banner of a client
//!   that can no longer get tokens.
//! - `reveal`: revealing a readable secret from the panel, after the password.
//! - `one_time`: the one-time secret dialog, and the secret block it shares with the
//!   no-JavaScript page.

pub mod expiry;
pub mod one_time;
pub mod panel;
mod reveal;
