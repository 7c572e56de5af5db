//! `clavis`: the server binary. `clavis serve` (default), `clavis migrate`, `clavis admin create`,
//! `clavis keys rotate`.

use std::io::BufRead;
use std::process::ExitCode;

use app::accounts::password::PasswordHasher;
use app::accounts::service as accounts;
use app::accounts::Role;
use app::infra::{RequestMeta, SvcError};
use app::oauth::keys;
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

async fn create_account(
    config: &config::Config,
    username: &str,
    role: CliRole,
) -> Result<(), String> {
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = password.trim_end_matches(['\r', '\n']);
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
