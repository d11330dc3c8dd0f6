//! Arguments and environment turned into a validated library request.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use std::path::PathBuf;

use regpull::Secret;
use regpull::auth::names::{NGC, NGC_USERNAME};
use regpull::auth::{
    AuthError, AuthFile, Chain, ConfigStore, Credential, DockerConfig, EcrSource,
    EnrootCredentials, EnvSource, FlagSource, GoogleApplicationCredentials, LocalSource, Lookup,
    RegistryName,
};
use regpull::hosts::{DEFAULT_HOSTS_DIR, HostsConfig, LoadOptions};
use regpull::pull::PullOptions;
use regpull::registry::ClientOptions;
use regpull::registry::retry::RetryPolicy;
use regpull::{Error, ImageRef, Platform};

use super::args::{CredentialArgs, PullArgs, SourceArgs, TransportArgs};

pub fn usage(message: impl Into<String>, hint: Option<&str>) -> Error {
    Error::Usage {
        message: message.into(),
        hint: hint.map(str::to_string),
    }
}

/// Turns a layout error into the command's error, naming the layout.
pub fn layout_error(dir: &std::path::Path) -> impl Fn(regpull::layout::LayoutError) -> Error + '_ {
    move |source| Error::Layout {
        path: dir.to_path_buf(),
        source,
    }
}

pub fn references(inputs: &[String]) -> Result<Vec<ImageRef>, Error> {
    inputs
        .iter()
        .map(|s| ImageRef::parse(s).map_err(Error::from))
        .collect()
}

pub fn pull_options(args: &PullArgs) -> Result<PullOptions, Error> {
    let mut opts = pull_options_for(
        // --all-platforms wins over DOCKER_DEFAULT_PLATFORM from the environment.
        args.platform.as_deref().filter(|_| !args.all_platforms),
        args.jobs,
        args.retries,
        &args.transport,
        &args.sources,
    )?;
    opts.all_platforms = args.all_platforms;
    opts.preserve_digests = args.preserve_digests;
    Ok(opts)
}

/// Pull options from the flags every pulling command shares.
pub fn pull_options_for(
    platform: Option<&str>,
    jobs: usize,
    retries: u32,
    transport: &TransportArgs,
    sources: &SourceArgs,
) -> Result<PullOptions, Error> {
    if jobs == 0 {
        return Err(usage("--jobs must be at least 1", None));
    }
    Ok(PullOptions {
        platform: platform_or_host(platform)?,
        all_platforms: false,
        preserve_digests: false,
        jobs,
        client: client_options(transport),
        retry: RetryPolicy {
            retries,
            ..RetryPolicy::default()
        },
        hosts: Arc::new(hosts(sources)?),
    })
}

/// The mirror configuration: the files named by flags or the environment,
/// else the user's and the system's (docs/mirrors.md).
pub fn hosts(args: &SourceArgs) -> Result<HostsConfig, Error> {
    let registries_conf = args.registries_conf.clone().or_else(|| {
        std::env::var_os("CONTAINERS_REGISTRIES_CONF")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let config = HostsConfig::load(&LoadOptions {
        registries_conf,
        home: std::env::var_os("HOME").map(PathBuf::from),
        hosts_dir: Some(
            args.hosts_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_HOSTS_DIR)),
        ),
        hosts_dir_explicit: args.hosts_dir.is_some(),
        mirrors: args.mirror.clone(),
        ..LoadOptions::default()
    })?;
    for note in config.notes() {
        tracing::info!("{note}");
    }
    Ok(config)
}

/// The platform asked for, else this machine's.
pub fn platform_or_host(platform: Option<&str>) -> Result<Platform, Error> {
    Ok(match platform {
        Some(p) => Platform::parse(p)?,
        None => regpull::platform::host(),
    })
}

pub fn client_options(t: &TransportArgs) -> ClientOptions {
    ClientOptions {
        ca_certs: t.ca_cert.clone(),
        certs_d: Some(t.certs_dir.clone()),
        insecure: t.insecure,
        plain_http: t.plain_http,
        read_timeout: Duration::from_secs(t.timeout.max(1)),
        resolve: t.resolve.clone(),
        connections: usize::from(t.connections),
        ..ClientOptions::default()
    }
}

/// The credential chain, in the documented order (docs/credentials.md): flags,
/// environment, --auth-file, podman's auth.json, docker's config.json, enroot's
/// .credentials, Google application credentials; anonymous when none answers.
pub fn credential_chain(args: &CredentialArgs, refs: &[ImageRef]) -> Result<Chain, Error> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let var = |k: &str| {
        env.iter()
            .find(|(n, v)| n == k && !v.is_empty())
            .map(|(_, v)| PathBuf::from(v))
    };
    let home = var("HOME").unwrap_or_default();
    let mut chain = Chain::new();
    // Flags and the environment name no registry: they are for the images'
    // registries, never for a mirror or cache on the way (docs/mirrors.md).
    let registries: Vec<RegistryName> =
        refs.iter().map(|r| RegistryName::new(r.domain())).collect();
    if let Some(flags) = flag_source(args, refs)? {
        chain.push(ImagesRegistries::new(&registries, flags));
    }
    chain.push(ImagesRegistries::new(
        &registries,
        EnvSource::new(env.clone()),
    ));
    if let Some(file) = &args.auth_file {
        chain.push(AuthFile::new(file, "--auth-file", true));
    }
    let podman = var("REGISTRY_AUTH_FILE")
        .or_else(|| var("XDG_RUNTIME_DIR").map(|d| d.join("containers/auth.json")));
    if let Some(file) = podman {
        chain.push(AuthFile::new(file, "podman auth.json", false));
    }
    let docker_dir = var("DOCKER_CONFIG").unwrap_or_else(|| home.join(".docker"));
    chain.push(DockerConfig::new(docker_dir.join("config.json")));
    let enroot_dir = var("ENROOT_CONFIG_PATH")
        .or_else(|| var("XDG_CONFIG_HOME").map(|d| d.join("enroot")))
        .unwrap_or_else(|| home.join(".config/enroot"));
    chain.push(EnrootCredentials::new(enroot_dir.join(".credentials")));
    let ecr_endpoint = var("AWS_ENDPOINT_URL_ECR").map(|p| p.display().to_string());
    chain.push(EcrSource::new(ecr_endpoint));
    chain.push(GoogleApplicationCredentials::new(var(
        "GOOGLE_APPLICATION_CREDENTIALS",
    )));
    Ok(chain)
}

/// A credential source that names no registry, answering only for the
/// registries the images are on: a mirror or pull-through cache they are
/// fetched through is asked of the credential files alone, under its own host.
struct ImagesRegistries<S> {
    registries: Vec<RegistryName>,
    inner: S,
}

impl<S> ImagesRegistries<S> {
    fn new(registries: &[RegistryName], inner: S) -> Self {
        ImagesRegistries {
            registries: registries.to_vec(),
            inner,
        }
    }
}

impl<S: LocalSource> LocalSource for ImagesRegistries<S> {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn read(&self, registry: &RegistryName) -> Result<Lookup, AuthError> {
        if self.registries.is_empty() || self.registries.contains(registry) {
            return self.inner.read(registry);
        }
        Ok(Lookup::NotFound(format!(
            "{} is not the images' registry (a mirror's credentials come from credential files)",
            registry.domain
        )))
    }
}

fn flag_source(args: &CredentialArgs, refs: &[ImageRef]) -> Result<Option<FlagSource>, Error> {
    let (password, origin) = if args.password_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| {
            usage(
                format!("cannot read the password from standard input: {e}"),
                None,
            )
        })?;
        (Some(strip_one_newline(s)), "--password-stdin".to_string())
    } else if let Some(file) = &args.password_file {
        let s = std::fs::read_to_string(file).map_err(|e| {
            usage(
                format!("cannot read --password-file {}: {e}", file.display()),
                None,
            )
        })?;
        (
            Some(strip_one_newline(s)),
            format!("--password-file {}", file.display()),
        )
    } else {
        (args.password.clone(), "--password".to_string())
    };
    if args.username.is_none() && password.is_none() {
        return Ok(None);
    }
    let mut hosts: Vec<&str> = refs.iter().map(ImageRef::api_host).collect();
    hosts.sort();
    hosts.dedup();
    if hosts.len() > 1 {
        return Err(usage(
            format!(
                "--username and passwords apply to one registry, but these images are on {}",
                hosts.join(", ")
            ),
            Some(
                "pull from each registry in its own regpull call, or keep credentials in a config file",
            ),
        ));
    }
    Ok(Some(FlagSource {
        username: args.username.clone(),
        password: password.map(Secret::new),
        password_origin: origin,
    }))
}

fn strip_one_newline(mut s: String) -> String {
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    s
}

/// Where `login` and `logout` keep credentials: --auth-file, else docker's config.json.
pub fn config_store(auth_file: Option<&std::path::Path>) -> ConfigStore {
    match auth_file {
        Some(f) => ConfigStore::new(f),
        None => {
            let var = |k: &str| {
                std::env::var_os(k)
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            };
            let dir = var("DOCKER_CONFIG")
                .unwrap_or_else(|| var("HOME").unwrap_or_default().join(".docker"));
            ConfigStore::new(dir.join("config.json"))
        }
    }
}

/// The username and password `login` was given (flags only: login stores what
/// the user typed, never what another source holds).
pub fn login_credentials(
    args: &CredentialArgs,
    registry: &RegistryName,
) -> Result<(String, Secret), Error> {
    let flags = flag_source(args, &[])?.ok_or_else(|| {
        let example = format!(
            "e.g. regpull login {NGC} --username '{NGC_USERNAME}' --password-stdin < key.txt"
        );
        usage("login needs --username and a password", Some(&example))
    })?;
    match flags.read(registry) {
        Ok(Lookup::Found {
            credential: Credential::Basic { username, password },
            ..
        }) => Ok((username, password)),
        Ok(_) => Err(usage("login needs --username and a password", None)),
        Err(e) => Err(usage(e.to_string(), None)),
    }
}
