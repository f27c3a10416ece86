//! Fake kubelet ports on one loopback address: the read-only port (10255, plain HTTP),
//! the kubelet API (10250, TLS, answering anonymous requests 401, 403 or 200) and
//! cAdvisor (4194); plus a plaintext gRPC stand-in for Tiller and a black hole that
//! accepts connections and never answers. All stop when dropped.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::pki;

/// How a fake kubelet behaves.
#[derive(Clone)]
pub struct Behaviour {
    /// Serve the read-only port 10255.
    pub read_only: bool,
    /// Status for anonymous requests on 10250; `None` leaves 10250 closed.
    pub anonymous: Option<u16>,
    /// Serve cAdvisor on 4194.
    pub cadvisor: bool,
    /// Sign the serving certificate with this CA (PEM pair); `None`: self-signed.
    pub serving_ca: Option<Arc<pki::Ca>>,
    /// End of the serving certificate's validity (year, month, day).
    pub not_after: (i32, u8, u8),
}

impl Behaviour {
    /// A well-configured kubelet: 10250 refuses anonymous requests with 401 and shows a
    /// CA-signed certificate; nothing on 10255 or 4194.
    pub fn hardened(ca: Arc<pki::Ca>) -> Self {
        Self { read_only: false, anonymous: Some(401), cadvisor: false, serving_ca: Some(ca), not_after: (2030, 1, 1) }
    }

    /// The worst: read-only port, anonymous 200, cAdvisor, self-signed certificate.
    pub fn weak() -> Self {
        Self { read_only: true, anonymous: Some(200), cadvisor: true, serving_ca: None, not_after: (2030, 1, 1) }
    }
}

/// Fake listeners served by one background runtime; stopped when dropped.
pub struct Listeners {
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Listeners {
    /// A runtime with nothing listening yet.
    pub fn new() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            handle_tx.send(runtime.handle().clone()).expect("the handle is received");
            runtime.block_on(async {
                let _ = stopped.await;
            });
        });
        let handle = handle_rx.recv().expect("the runtime starts");
        Self { handle, stop: Some(stop), thread: Some(thread) }
    }
}

impl Default for Listeners {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

const PODS: &str = r#"{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"storefront-1","namespace":"shop"}},{"metadata":{"name":"coredns-1","namespace":"kube-system"}},{"metadata":{"name":"kube-proxy-1","namespace":"kube-system"}}]}"#;
const METRICS: &str = "# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed\ncontainer_cpu_usage_seconds_total{pod=\"storefront-1\"} 12.5\ncontainer_memory_working_set_bytes{pod=\"storefront-1\"} 1048576\n";

fn kubelet_api(status: u16) -> Router {
    let answer = move |body: &'static str, content_type: &'static str| {
        let code = StatusCode::from_u16(status).expect("a status");
        if status == 200 {
            ([(header::CONTENT_TYPE, content_type)], body).into_response()
        } else {
            (code, if status == 401 { "Unauthorized" } else { "Forbidden (user=system:anonymous, verb=get)" })
                .into_response()
        }
    };
    Router::new()
        .route("/pods", axum::routing::get(move || async move { answer(PODS, "application/json") }))
        .route("/metrics/cadvisor", axum::routing::get(move || async move { answer(METRICS, "text/plain") }))
}

fn cadvisor() -> Router {
    Router::new().fallback(|| async {
        Response::builder()
            .status(StatusCode::MOVED_PERMANENTLY)
            .header(header::LOCATION, "/containers/")
            .body(axum::body::Body::empty())
            .expect("a response")
    })
}

fn tls_config(ip: IpAddr, behaviour: &Behaviour) -> rustls::ServerConfig {
    let leaf = match &behaviour.serving_ca {
        Some(ca) => ca.server_until(ip, behaviour.not_after),
        None => pki::self_signed(ip, behaviour.not_after),
    };
    leaf.server_config()
}

/// Binds `address` now (so a probe can never race the listener).
fn bind(address: SocketAddr) -> std::net::TcpListener {
    let listener = std::net::TcpListener::bind(address).unwrap_or_else(|error| panic!("bind {address}: {error}"));
    listener.set_nonblocking(true).expect("non-blocking");
    listener
}

impl Listeners {
    /// Serves `app` over plain HTTP on `address`.
    pub fn http(&self, address: SocketAddr, app: Router) {
        let listener = bind(address);
        self.handle.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
            let _ = axum::serve(listener, app).await;
        });
    }

    /// Serves `app` over TLS on `address`.
    pub fn https(&self, address: SocketAddr, app: Router, tls: rustls::ServerConfig) {
        let listener = bind(address);
        let config = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(tls));
        let _guard = self.handle.enter();
        self.handle.spawn(async move {
            let _ = axum_server::from_tcp_rustls(listener, config)
                .expect("a TLS listener")
                .serve(app.into_make_service())
                .await;
        });
    }

    /// A fake kubelet on `ip`.
    pub fn kubelet(&self, ip: IpAddr, behaviour: &Behaviour) {
        if behaviour.read_only {
            self.http(SocketAddr::new(ip, 10255), kubelet_api(200));
        }
        if let Some(status) = behaviour.anonymous {
            self.https(SocketAddr::new(ip, 10250), kubelet_api(status), tls_config(ip, behaviour));
        }
        if behaviour.cadvisor {
            self.http(SocketAddr::new(ip, 4194), cadvisor());
        }
    }

    /// A controller manager's or scheduler's secure port on `address`: `/metrics` and
    /// `/configz` answered with `status` to anonymous requests, over rustls (TLS 1.2+,
    /// AEAD suites only).
    pub fn component(&self, address: SocketAddr, status: u16) {
        let answer = move |body: &'static str| {
            let code = StatusCode::from_u16(status).expect("a status");
            if status == 200 { body.into_response() } else { (code, "Forbidden").into_response() }
        };
        let app = Router::new()
            .route("/metrics", axum::routing::get(move || async move { answer("# HELP up\nup 1\n") }))
            .route("/configz", axum::routing::get(move || async move { answer(r#"{"componentconfig":{}}"#) }));
        let leaf = pki::self_signed(address.ip(), (2100, 1, 1));
        self.https(address, app, leaf.server_config());
    }

    /// A plaintext gRPC server's first words on `address`: an empty HTTP/2 SETTINGS
    /// frame, as Tiller without TLS sends on every connection.
    pub fn plaintext_grpc(&self, address: SocketAddr) {
        let listener = bind(address);
        self.handle.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let _ = stream.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await;
                    let mut preface = [0_u8; 33];
                    let _ = stream.read_exact(&mut preface).await;
                });
            }
        });
    }

    /// Accepts connections on `address` and never answers.
    pub fn black_hole(&self, address: SocketAddr) {
        let listener = bind(address);
        self.handle.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
    }
}
