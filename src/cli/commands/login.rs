//! `regpull login REGISTRY` and `regpull logout REGISTRY`.

use std::process::ExitCode;
use std::sync::Arc;

use regpull::Error;
use regpull::auth::{Credential, Found, Given, RegistryName};
use regpull::reference::{api_host, registry_domain};
use regpull::registry::retry::{RetryPolicy, unreported};
use regpull::registry::{AuthScheme, Login, Registry};

use crate::cli::args::{LoginArgs, LogoutArgs};
use crate::cli::settings;

pub fn login(args: &LoginArgs) -> Result<ExitCode, Error> {
    let domain = registry_domain(&args.registry);
    let registry = RegistryName::new(&domain);
    let (username, password) = settings::login_credentials(&args.credentials, &registry)?;
    let opts = settings::client_options(&args.transport);
    let host = api_host(&domain).to_string();
    let credential = Credential::Basic {
        username: username.clone(),
        password: password.clone(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let login_err = |source| Error::Login {
        registry: domain.clone(),
        source: Box::new(source),
    };
    let scheme = runtime
        .block_on(async {
            let login = Login {
                name: registry.clone(),
                keychain: Arc::new(Given(Found {
                    credential,
                    source: "the command line".into(),
                })),
            };
            let policy = RetryPolicy::default();
            let reg = Registry::connect(&host, login, &opts, &policy, &unreported).await?;
            reg.verify_login().await
        })
        .map_err(login_err)?;
    if scheme == AuthScheme::Anonymous {
        eprintln!("note: {domain} asked for no authentication; the credentials are stored anyway");
    }
    let store = settings::config_store(args.credentials.auth_file.as_deref());
    let place = store
        .store(&registry, &username, &password)
        .map_err(Error::Credentials)?;
    println!("Login Succeeded: {domain} as {username} (saved in {place})");
    Ok(ExitCode::SUCCESS)
}

pub fn logout(args: &LogoutArgs) -> Result<ExitCode, Error> {
    let domain = registry_domain(&args.registry);
    let store = settings::config_store(args.auth_file.as_deref());
    let removed = store
        .erase(&RegistryName::new(&domain))
        .map_err(Error::Credentials)?;
    if removed {
        println!(
            "Removed credentials for {domain} from {}",
            store.path().display()
        );
    } else {
        println!("No credentials for {domain} in {}", store.path().display());
    }
    Ok(ExitCode::SUCCESS)
}
