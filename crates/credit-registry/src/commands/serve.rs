//! `serve`: the HTTP API until interrupted.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use registry_service::Registry;

use crate::cli::ServeArgs;
use crate::commands::open_registry;
use crate::config::Config;
use crate::failure::CommandResult;

pub fn run(config: &Config, args: ServeArgs) -> CommandResult {
    let registry = open_registry(config)?;
    let listen = args.listen.unwrap_or(config.listen);
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
        let address = listener.local_addr().context("reading the bound address")?;
        eprintln!("credit-registry API on http://{address} (OpenAPI at /openapi.json); Ctrl-C stops");
        serve(registry, config, listener).await
    })?;
    Ok(())
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(registry: Arc<Registry>, config: &Config, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    let shutdown = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = ctrl_c => {}
                () = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
    };
    registry_server::serve(registry, config.server.clone(), listener, shutdown).await.context("serving the API")
}

/// Binds `preferred`, or a free port on the same host when it is taken.
pub async fn bind_or_any(preferred: SocketAddr) -> anyhow::Result<(tokio::net::TcpListener, bool)> {
    match tokio::net::TcpListener::bind(preferred).await {
        Ok(listener) => Ok((listener, false)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let any = SocketAddr::new(preferred.ip(), 0);
            Ok((tokio::net::TcpListener::bind(any).await.with_context(|| format!("listening on {any}"))?, true))
        }
        Err(e) => Err(e).with_context(|| format!("listening on {preferred}")),
    }
}
