//! A TCP relay in front of a server (a registry process), for a test that
//! must catch a transfer midway without racing it: what the server sends
//! flows to the clients until a budget of bytes is spent, then the relay
//! holds the rest back (the server's answers wait, the client sees a quiet
//! connection) until the budget is raised or the relay is closed. Closing
//! drops the listener and every connection, as a dead host would: what is
//! in flight ends mid-answer and new connections are refused.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

struct Shared {
    backend: String,
    /// Bytes the server may send to clients, in all; `u64::MAX`: no bound.
    budget: AtomicU64,
    /// Bytes it has sent so far.
    sent: AtomicU64,
    tasks: Mutex<Vec<AbortHandle>>,
}

pub struct Relay {
    /// `127.0.0.1:PORT`, where clients connect.
    pub host: String,
    shared: Arc<Shared>,
}

impl Relay {
    /// A relay to `backend` (`HOST:PORT`), without a bound.
    pub async fn start(backend: &str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let shared = Arc::new(Shared {
            backend: backend.to_string(),
            budget: AtomicU64::new(u64::MAX),
            sent: AtomicU64::new(0),
            tasks: Mutex::new(Vec::new()),
        });
        let accept = {
            let shared = shared.clone();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let conn = tokio::spawn(relay(client, shared.clone()));
                    shared.tasks.lock().unwrap().push(conn.abort_handle());
                }
            })
        };
        shared.tasks.lock().unwrap().push(accept.abort_handle());
        Relay { host, shared }
    }

    /// From now on the server's bytes stop flowing once `total` have been
    /// sent to clients since the relay started.
    pub fn hold_after(&self, total: u64) {
        self.shared.budget.store(total, Ordering::SeqCst);
    }

    /// Bytes sent to clients so far.
    pub fn sent(&self) -> u64 {
        self.shared.sent.load(Ordering::SeqCst)
    }

    /// Is the relay holding bytes back (the budget spent)?
    pub fn holding(&self) -> bool {
        self.sent() >= self.shared.budget.load(Ordering::SeqCst)
    }

    /// Drops the listener and every connection.
    pub fn close(&self) {
        for t in self.shared.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.close();
    }
}

/// Up to `want` bytes the budget allows now, waiting while it allows none.
async fn allowance(shared: &Shared, want: u64) -> u64 {
    loop {
        let (sent, budget) = (
            shared.sent.load(Ordering::SeqCst),
            shared.budget.load(Ordering::SeqCst),
        );
        if sent < budget {
            let n = want.min(budget - sent);
            shared.sent.fetch_add(n, Ordering::SeqCst);
            return n;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn relay(client: TcpStream, shared: Arc<Shared>) {
    let Ok(server) = TcpStream::connect(&shared.backend).await else {
        return; // The client's connection is dropped, as a dead server's would be.
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let up = async {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
        let _ = server_write.shutdown().await;
        // Half-closed by the client: answers may still be on their way.
        std::future::pending::<()>().await
    };
    let down = async {
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut at = 0;
            while at < n {
                let k = allowance(&shared, (n - at) as u64).await as usize;
                if client_write.write_all(&buf[at..at + k]).await.is_err() {
                    return;
                }
                at += k;
            }
        }
        let _ = client_write.shutdown().await;
    };
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}
