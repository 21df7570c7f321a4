//! Static files (CSS, JavaScript, icons), embedded in the binary so the server is one file.

use axum::{
    extract::Path,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

const FILES: &[(&str, &str, &[u8])] = &[
    ("app.css", "text/css; charset=utf-8", include_bytes!("../../frontend/static/app.css")),
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../../frontend/static/app.js")),
    ("bid.js", "text/javascript; charset=utf-8", include_bytes!("../../frontend/static/bid.js")),
    ("envelope.js", "text/javascript; charset=utf-8", include_bytes!("../../frontend/static/envelope.js")),
    ("favicon.svg", "image/svg+xml", include_bytes!("../../frontend/static/favicon.svg")),
    ("hall.js", "text/javascript; charset=utf-8", include_bytes!("../../frontend/static/hall.js")),
    ("mybids.js", "text/javascript; charset=utf-8", include_bytes!("../../frontend/static/mybids.js")),
    // @noble/hashes (MIT, frontend/static/noble-hashes/README.md): SHA-256 that can be fed in
    // pieces, which WebCrypto cannot, for sealing large bids chunk by chunk.
    (
        "noble-hashes/sha2.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../frontend/static/noble-hashes/sha2.js"),
    ),
    (
        "noble-hashes/_md.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../frontend/static/noble-hashes/_md.js"),
    ),
    (
        "noble-hashes/_u64.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../frontend/static/noble-hashes/_u64.js"),
    ),
    (
        "noble-hashes/utils.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../frontend/static/noble-hashes/utils.js"),
    ),
];

/// `GET /static/{file}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, mime, body)) => {
            ([(header::CONTENT_TYPE, *mime), (header::CACHE_CONTROL, "public, max-age=3600")], *body).into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
