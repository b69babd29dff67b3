//! Answer links as absolute URLs and their QR codes, rendered as SVG on the server (no
//! script, no external service: the printed sheet works offline).

use axum::http::{HeaderMap, header};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use crate::app::AppState;
use crate::error::{AppError, AppResult};

/// The scheme and host the customer's phone should reach, from the request: the forwarded
/// headers only when a trusted proxy sets them, https when cookies are secure.
pub fn base_url(st: &AppState, headers: &HeaderMap) -> String {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or("").trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let trust = st.settings.server.trust_proxy_headers;
    let host = trust
        .then(|| h("x-forwarded-host"))
        .flatten()
        .or_else(|| h(header::HOST.as_str()))
        .unwrap_or_else(|| "localhost".into());
    let scheme = trust
        .then(|| h("x-forwarded-proto"))
        .flatten()
        .unwrap_or_else(|| {
            if st.settings.server.secure_cookies {
                "https".into()
            } else {
                "http".into()
            }
        });
    // A host header is attacker-controlled text: keep only what a host can contain.
    let host: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        .collect();
    format!("{scheme}://{host}")
}

/// The path of an answer link.
pub fn path(token: &str) -> String {
    format!("/s/{token}")
}

/// The QR code of `data` as a standalone SVG document, at least `size` pixels wide.
pub fn svg(data: &str, size: u32) -> AppResult<String> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|e| AppError::Internal(format!("qr: {e}")))?;
    Ok(code
        .render::<svg::Color>()
        .min_dimensions(size, size)
        .quiet_zone(true)
        .build())
}

/// The QR code as an `<svg>` element to put inside a page (the XML prolog removed).
pub fn inline(data: &str, size: u32) -> AppResult<String> {
    let s = svg(data, size)?;
    Ok(match s.find("<svg") {
        Some(i) => s[i..].to_string(),
        None => s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_svg() {
        let s = inline("http://example.com/s/abc", 120).unwrap();
        assert!(s.starts_with("<svg"), "{s}");
        assert!(s.contains("</svg>"));
    }
}
