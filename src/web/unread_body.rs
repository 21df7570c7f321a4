//! Answers that leave the request body unread end their connection, and say so.
//!
//! A handler may answer before it reads the body: a refused role, a missing header, a body over
//! its limit. The server then cannot read the next request on that connection (what is left of
//! the body is in the way), so hyper closes it after the answer. Without a word in the answer,
//! a client that keeps connections alive puts its next request on the closing connection and
//! gets no answer at all. This layer watches the body and, when the answer leaves it unread on
//! HTTP/1, marks the answer `Connection: close`, so the client opens a new connection instead.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderValue, Version, header};
use axum::middleware::Next;
use axum::response::Response;

/// The middleware: see the module's documentation.
pub async fn close_if_unread(req: Request, next: Next) -> Response {
    let http1 = matches!(req.version(), Version::HTTP_10 | Version::HTTP_11);
    if !http1 || !has_body(&req) {
        return next.run(req).await;
    }
    let done = Arc::new(AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let body = Body::new(Watched { inner: body, done: done.clone() });
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if !done.load(Ordering::Acquire) {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Whether the request announces a body: a non-zero length, or chunks.
fn has_body(req: &Request) -> bool {
    if req.headers().contains_key(header::TRANSFER_ENCODING) {
        return true;
    }
    match req.headers().get(header::CONTENT_LENGTH) {
        None => false,
        // A length that does not read is hyper's to refuse; treat it as a body.
        Some(v) => v.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()) != Some(0),
    }
}

/// A request body that notes when it has been read to its end.
struct Watched {
    inner: Body,
    done: Arc<AtomicBool>,
}

impl HttpBody for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.done.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
