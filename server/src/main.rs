//! `clavis`: the server binary. `clavis serve` (default), `clavis migrate`, `clavis admin create`,
//! `clavis clients create`, `clavis keys rotate`. Logs go to standard error, so that what a
//! command prints (a new client's secret) is alone on standard output.

use std::io::BufRead;
use std::process::ExitCode;

use app::accounts::password::PasswordHasher;
use app::accounts::service as accounts;
use app::accounts::Role;
use app::clients::service as clients;
use app::clients::ClientInput;
use app::error::AppError;
use app::infra::{RequestMeta, SvcError};
use app::oauth::keys;
use app::people::service as people;
use app::people::PersonInput;
use clap::{Parser, Subcommand, ValueEnum};
use server::config;

#[derive(Parser)]
#[command(
    name = "clavis",
    version,
    about = "OAuth client registry and client-secret lifecycle console"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the console (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage console accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Manage OAuth clients (the first automation client, before anyone has a token).
    Clients {
        #[command(subcommand)]
        command: ClientsCommand,
    },
    /// Manage the directory of people who sign in to apps (not console accounts).
    People {
        #[command(subcommand)]
        command: PeopleCommand,
    },
    /// Manage the keys that sign access tokens.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new signing key: published in the JWKS at once, signing 60 seconds later. The old
    /// key stays in the JWKS until every token it signed has expired.
    Rotate,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an account. The password is read from standard input.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long, value_enum)]
        role: CliRole,
        /// Read the password from the first line of standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum PeopleCommand {
    /// Add a person. The password is read from standard input.
    Create {
        #[arg(long)]
        username: String,
        /// What apps greet them with (the `name` claim). Defaults to the username.
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long, default_value = "")]
        email: String,
        /// Read the password from the first line of standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum ClientsCommand {
    /// Create a client, as an administrator would in the console, and print its id and, for a
    /// confidential client, its first secret: once, on standard output.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long = "type", value_enum)]
        client_type: CliClientType,
        /// Space-separated scopes, such as `clavis:admin` for an automation client of the admin API.
        #[arg(long, default_value = "")]
        scope: String,
        #[arg(long, default_value = "")]
        description: String,
        /// A redirect URI (PKCE types); repeat it for several.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Where RP-initiated logout may send people back to (PKCE types); repeat it for several.
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// First-party: people signing in are not asked for consent (PKCE types).
        #[arg(long)]
        first_party: bool,
        /// The `aud` of its access tokens.
        #[arg(long, default_value = "")]
        audience: String,
        /// Seconds each new secret stays valid (types with a secret), up to
        /// `secret_max_lifetime`; the server's policy when absent.
        #[arg(long, allow_hyphen_values = true)]
        secret_lifetime: Option<String>,
        /// `env`: CLAVIS_CLIENT_ID=… lines for a shell or an env file; `json`: one object.
        #[arg(long, value_enum, default_value = "env")]
        format: Format,
    },
}

/// Both spellings of each type are accepted: the API's and DESIGN.md's (`client_credentials`)
/// and the usual command-line one (`client-credentials`).
#[derive(Clone, Copy, ValueEnum)]
enum CliClientType {
    #[value(alias = "confidential_pkce")]
    ConfidentialPkce,
    #[value(alias = "public_pkce")]
    PublicPkce,
    #[value(alias = "client_credentials")]
    ClientCredentials,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Env,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum CliRole {
    Admin,
    Support,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let loaded = match config::load() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("clavis: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&loaded.config.log))
        .with_writer(std::io::stderr)
        .init();
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("clavis: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => server::serve(loaded.config)
                .await
                .map_err(|e| e.to_string()),
            Command::Migrate => server::open_database(&loaded.config)
                .await
                .map(|_| tracing::info!("migrations applied"))
                .map_err(|e| e.to_string()),
            Command::Admin {
                command: AdminCommand::Create { username, role, .. },
            } => create_account(&loaded.config, &username, role).await,
            Command::Clients {
                command:
                    ClientsCommand::Create {
                        name,
                        client_type,
                        scope,
                        description,
                        redirect_uris,
                        post_logout_redirect_uris,
                        first_party,
                        audience,
                        secret_lifetime,
                        format,
                    },
            } => {
                let kind = match client_type {
                    CliClientType::ConfidentialPkce => "confidential_pkce",
                    CliClientType::PublicPkce => "public_pkce",
                    CliClientType::ClientCredentials => "client_credentials",
                };
                let input = ClientInput {
                    name,
                    description,
                    client_type: kind.into(),
                    redirect_uris: redirect_uris.join("\n"),
                    post_logout_redirect_uris: post_logout_redirect_uris.join("\n"),
                    first_party,
                    scopes: scope,
                    audience,
                    secret_lifetime: secret_lifetime.unwrap_or_default(),
                    ..Default::default()
                };
                create_client(&loaded.config, &input, format).await
            }
            Command::People {
                command:
                    PeopleCommand::Create {
                        username,
                        display_name,
                        email,
                        ..
                    },
            } => create_person(&loaded.config, username, display_name, email).await,
            Command::Keys {
                command: KeysCommand::Rotate,
            } => rotate_keys(&loaded.config).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("clavis: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn create_client(
    config: &config::Config,
    input: &ClientInput,
    format: Format,
) -> Result<(), String> {
    let db = server::open_database(config)
        .await
        .map_err(|e| e.to_string())?;
    let kek = server::open_key_encryption_key(config, &db)
        .await
        .map_err(|e| e.to_string())?;
    let db = server::apply_secret_storage(db, config.client_secrets_stored_as_one_way_hash, &kek)
        .await
        .map_err(|e| e.to_string())?
        .limiting_secret_lifetime(config.settings().secret_max_lifetime_secs);
    let (client, secret) = clients::create_issuing(&db, "cli", &RequestMeta::default(), input)
        .await
        .map_err(cli_error)?;
    let expires = secret
        .as_ref()
        .and_then(|s| s.expires_at)
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    let secret = secret.map(|s| s.secret);
    match format {
        Format::Env => {
            println!("CLAVIS_CLIENT_ID={}", client.client_id);
            if let Some(s) = &secret {
                println!("CLAVIS_CLIENT_SECRET={s}");
            }
            if let Some(at) = &expires {
                println!("CLAVIS_CLIENT_SECRET_EXPIRES_AT={at}");
            }
        }
        Format::Json => {
            let mut out =
                serde_json::json!({ "client_id": client.client_id, "client_name": client.name });
            if let Some(s) = &secret {
                out["client_secret"] = s.clone().into();
            }
            if let Some(at) = &expires {
                out["secret_expires_at"] = at.clone().into();
            }
            println!("{out}");
        }
    }
    Ok(())
}

/// The flag of `clavis clients create` or `clavis people create` that sets a field.
fn cli_flag(field: &str) -> &str {
    match field {
        "client_type" => "type",
        "scopes" => "scope",
        "redirect_uris" => "redirect-uri",
        "secret_lifetime" => "secret-lifetime",
        "display_name" => "display-name",
        "password" => "password-stdin",
        other => other,
    }
}

async fn rotate_keys(config: &config::Config) -> Result<(), String> {
    let db = server::open_database(config)
        .await
        .map_err(|e| e.to_string())?;
    let kek = server::open_key_encryption_key(config, &db)
        .await
        .map_err(|e| e.to_string())?;
    keys::seal_unsealed(&db, &kek).await.map_err(|e| {
        format!("the key in key_encryption_key_file does not open the signing keys: {e}")
    })?;
    let kid = keys::rotate_signing_key(&db, Some(&kek), &RequestMeta::default(), "cli")
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "new signing key {kid}; published in the JWKS now, signing in {} seconds (once resource servers have seen it)",
        keys::JWKS_MAX_AGE_SECS
    );
    Ok(())
}

/// The first line of standard input, without its line ending.
fn read_password() -> Result<String, String> {
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    Ok(password.trim_end_matches(['\r', '\n']).to_string())
}

/// An error of the services, in the CLI's words: a field error names its flag.
fn cli_error(e: SvcError) -> String {
    match e {
        SvcError::App(AppError::Validation { field, message }) => {
            format!("--{}: {message}", cli_flag(&field))
        }
        SvcError::App(a) => a.to_string(),
        other => other.to_string(),
    }
}

async fn create_person(
    config: &config::Config,
    username: String,
    display_name: Option<String>,
    email: String,
) -> Result<(), String> {
    let input = PersonInput {
        display_name: display_name.unwrap_or_else(|| username.clone()),
        username,
        email,
        password: read_password()?,
    };
    let db = server::open_database(config)
        .await
        .map_err(|e| e.to_string())?;
    let hasher = PasswordHasher::new().map_err(|e| e.to_string())?;
    let p = people::create(&db, &hasher, "cli", &RequestMeta::default(), &input)
        .await
        .map_err(cli_error)?;
    println!(
        "added {} ({}), subject {}",
        p.username, p.display_name, p.subject
    );
    Ok(())
}

async fn create_account(
    config: &config::Config,
    username: &str,
    role: CliRole,
) -> Result<(), String> {
    let password = read_password()?;
    let password = password.as_str();
    let db = server::open_database(config)
        .await
        .map_err(|e| e.to_string())?;
    let hasher = PasswordHasher::new().map_err(|e| e.to_string())?;
    let role = match role {
        CliRole::Admin => Role::Admin,
        CliRole::Support => Role::Support,
    };
    let created = accounts::create(
        &db,
        &hasher,
        "cli",
        &RequestMeta::default(),
        username,
        password,
        role,
    )
    .await
    .map_err(|e| match e {
        SvcError::App(a) => a.to_string(),
        other => other.to_string(),
    })?;
    println!(
        "created account {} with role {}",
        created.username,
        created.role.as_str()
    );
    Ok(())
}
