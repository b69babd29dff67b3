//! The timeline block shown on customer and equipment pages: newest first, paginated with
//! `?tpage=N`, each event linking to its record. Features add events with
//! `store::timeline::add` in the transaction that makes them.

use axum::http::Uri;
use store::timeline::Event;
use store::{Page, PageReq};

use crate::i18n::Tr;

/// Events per timeline page.
pub const PER_PAGE: i64 = 20;

/// The `tpage` query parameter of a page.
pub fn page_of(uri: &Uri) -> PageReq {
    let n = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .and_then(|v| v.into_iter().find(|(k, _)| k == "tpage"))
        .and_then(|(_, v)| v.parse().ok());
    PageReq::new(n, Some(PER_PAGE))
}

/// One event, ready to show.
pub struct Item {
    pub at: String,
    pub text: String,
    pub link: String,
}

/// A page of a timeline, ready to show (`archives/_timeline.html`).
pub struct Timeline {
    pub items: Vec<Item>,
    pub total: i64,
    pub prev: String,
    pub next: String,
}

impl Timeline {
    /// Builds the block for `page` shown on the page at `uri`.
    pub fn new(tr: &Tr, uri: &Uri, page: Page<Event>) -> Timeline {
        let link = |n: i64| format!("{}?tpage={n}#timeline", uri.path());
        Timeline {
            prev: if page.page > 1 {
                link(page.page - 1)
            } else {
                String::new()
            },
            next: if page.page < page.pages() {
                link(page.page + 1)
            } else {
                String::new()
            },
            total: page.total,
            items: page
                .items
                .into_iter()
                .map(|e| Item {
                    at: tr.time(e.at),
                    text: tr.t1(&format!("timeline.{}", e.kind), &e.summary),
                    link: super::link(&e.kind, e.ref_id),
                })
                .collect(),
        }
    }
}
