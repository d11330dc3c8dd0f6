//! An HTTP proxy as sites put in front of everything (squid and the like),
//! for HTTPS through `CONNECT`: it records each tunnel asked for with the
//! `Proxy-Authorization` that came with it, may demand a credential (407),
//! and does its own name resolution, here mapping every name to one server
//! (a vendor simulator answering as all of them).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One `CONNECT` asked for.
#[derive(Clone, Debug)]
pub struct Tunnel {
    /// `host:port` as the client named it.
    pub target: String,
    pub proxy_authorization: Option<String>,
}

pub struct ConnectProxy {
    pub addr: SocketAddr,
    tunnels: Arc<Mutex<Vec<Tunnel>>>,
    _task: tokio::task::JoinHandle<()>,
}

impl ConnectProxy {
    /// Tunnels every name to `backend`; with `require` (the whole header
    /// value, e.g. `Basic dXNlcjpwdw==`), only for requests that carry it.
    pub async fn start(backend: SocketAddr, require: Option<String>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let seen = tunnels.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let (seen, require) = (seen.clone(), require.clone());
                tokio::spawn(async move {
                    let _ = tunnel(client, backend, &seen, require.as_deref()).await;
                });
            }
        });
        ConnectProxy {
            addr,
            tunnels,
            _task: task,
        }
    }

    pub fn tunnels(&self) -> Vec<Tunnel> {
        self.tunnels.lock().unwrap().clone()
    }
}

async fn tunnel(
    mut client: TcpStream,
    backend: SocketAddr,
    seen: &Mutex<Vec<Tunnel>>,
    require: Option<&str>,
) -> std::io::Result<()> {
    let head = read_head(&mut client).await?;
    let mut lines = head.split("\r\n");
    let request = lines.next().unwrap_or_default();
    let mut words = request.split(' ');
    let (method, target) = (words.next(), words.next().unwrap_or_default());
    let proxy_authorization = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, value)| value.trim().to_string());
    seen.lock().unwrap().push(Tunnel {
        target: target.to_string(),
        proxy_authorization: proxy_authorization.clone(),
    });
    if method != Some("CONNECT") {
        return client
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
            .await;
    }
    if require.is_some() && proxy_authorization.as_deref() != require {
        return client
            .write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                  proxy-authenticate: Basic realm=\"proxy\"\r\ncontent-length: 0\r\n\r\n",
            )
            .await;
    }
    let mut server = TcpStream::connect(backend).await?;
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}

/// The request line and headers, up to the blank line (at most 16 KiB).
async fn read_head(client: &mut TcpStream) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 << 10 {
        if client.read(&mut byte).await? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}
