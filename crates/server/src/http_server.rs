//! The HTTP/1.1 server: hyper driven directly, because `axum::serve` runs hyper without a timer,
//! and without a timer hyper has no header-read timeout: a client that sends one header byte a
//! second (slowloris) would hold its connection, and a task, forever.
//!
//! Each connection's request head must arrive within [`ServerOptions::header_read_timeout`]
//! (that covers an idle keep-alive connection waiting for its next request too); what follows
//! the head is bounded by the pipeline's request timeout. On shutdown the listener closes, the
//! connections finish the request they are answering, and whatever is still open at the
//! deadline is dropped.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::tls::ReloadableTls;

#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    /// How long a client may take to send a request's headers (and an idle connection may wait
    /// for its next request).
    pub header_read_timeout: Duration,
    /// How long a graceful shutdown waits for the requests in flight.
    pub shutdown_deadline: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            shutdown_deadline: Duration::from_secs(30),
        }
    }
}

/// Serve `router` on `listener` until `shutdown` completes, then drain. With `tls`, every
/// connection first completes a TLS handshake, within the header-read timeout.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServerOptions,
    tls: Option<ReloadableTls>,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(e) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // Each request of the connection carries its peer's address (`aws:SourceIp`).
        let peer = crate::request::PeerAddr(peer.ip());
        let service = TowerToHyperService::new(tower::ServiceExt::map_request(
            router.clone(),
            move |mut request: http::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(peer);
                request
            },
        ));
        let (builder, watcher) = (builder.clone(), graceful.watcher());
        let acceptor = tls.as_ref().map(ReloadableTls::acceptor);
        let handshake_timeout = options.header_read_timeout;
        tokio::spawn(async move {
            // Timeouts, resets and malformed heads end up here; the client has gone or is told.
            let served = match acceptor {
                None => {
                    let connection = builder.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(connection).await
                }
                Some(acceptor) => {
                    let Some(stream) = handshake(&acceptor, stream, handshake_timeout).await else {
                        return;
                    };
                    let connection = builder.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(connection).await
                }
            };
            if let Err(e) = served {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(options.shutdown_deadline) => {
            tracing::warn!(
                seconds = options.shutdown_deadline.as_secs(),
                "requests still in flight at the shutdown deadline were dropped"
            );
        }
    }
}

/// The TLS side of a new connection, or `None` (logged) when the client does not complete the
/// handshake within `limit`: a slow handshake holds no more than a slow request head would.
async fn handshake(
    acceptor: &tokio_rustls::TlsAcceptor,
    stream: tokio::net::TcpStream,
    limit: Duration,
) -> Option<tokio_rustls::server::TlsStream<tokio::net::TcpStream>> {
    match tokio::time::timeout(limit, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            None
        }
    }
}
