//! The message a page shows once after an action succeeded ("项目已发布").
//!
//! A page handler that changed something redirects with [`to`], naming a [`Flash`]: the redirect
//! sets a short-lived cookie holding the flash's key, never a text. The next page reads the
//! cookie ([`super::page::PageCtx::flash`]), shows the catalogue text `flash.<key>` in the
//! reader's language, and [`clear_shown`] removes the cookie with that page's answer, so the
//! message shows once. A cookie value that is not a flash is ignored.

use crate::column::string_enum;
use axum::{
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};

/// Name of the cookie.
pub const FLASH_COOKIE: &str = "th_flash";

/// Seconds the cookie lives: long enough for the redirect to be followed.
const MAX_AGE: u32 = 60;

string_enum! {
    /// What succeeded; its text is `flash.<key>` in the message catalogues.
    Flash {
        /// A draft tender was saved.
        TenderSaved = "tender_saved",
        /// A tender document was uploaded.
        DocumentUploaded = "document_uploaded",
        /// A tender document was removed.
        DocumentRemoved = "document_removed",
        /// A tender was published.
        TenderPublished = "tender_published",
        /// A tender was cancelled.
        TenderCancelled = "tender_cancelled",
        /// The tender documents were obtained.
        DocumentsObtained = "documents_obtained",
        /// A question was sent.
        QuestionAsked = "question_asked",
        /// An answer, clarification or amendment was published.
        ClarificationPublished = "clarification_published",
        /// A registration was approved.
        RegistrationApproved = "registration_approved",
        /// A registration was rejected.
        RegistrationRejected = "registration_rejected",
        /// An order was placed.
        OrderPlaced = "order_placed",
        /// The supplier confirmed an order.
        OrderConfirmed = "order_confirmed",
        /// The supplier asked to adjust an order.
        OrderAdjustmentRequested = "order_adjustment_requested",
        /// The supplier rejected an order.
        OrderRejected = "order_rejected",
        /// The unit submitted an order again.
        OrderResubmitted = "order_resubmitted",
        /// An order was cancelled.
        OrderCancelled = "order_cancelled",
        /// An order was delivered.
        OrderDelivered = "order_delivered",
        /// An order was accepted.
        OrderAccepted = "order_accepted",
        /// An order's payment was recorded.
        OrderPaid = "order_paid",
        /// A quotation was started.
        QuotationStarted = "quotation_started",
        /// A quote was submitted or replaced.
        QuoteSubmitted = "quote_submitted",
        /// A quotation was cancelled.
        QuotationCancelled = "quotation_cancelled",
        /// A framework agreement was set up.
        AgreementCreated = "agreement_created",
        /// An item was added to an agreement.
        ItemAdded = "item_added",
        /// An agreement was suspended.
        AgreementSuspended = "agreement_suspended",
        /// An agreement was resumed.
        AgreementResumed = "agreement_resumed",
        /// An item's price was changed.
        PriceSaved = "price_saved",
        /// A centralized procurement result was recorded.
        ResultRecorded = "result_recorded",
        /// A price flag was resolved.
        FlagResolved = "flag_resolved",
    }
}

impl Flash {
    /// The catalogue key of its text.
    pub fn text_key(self) -> String {
        format!("flash.{}", self.as_str())
    }
}

/// Redirects to `path` (303, POST-redirect-GET) with `flash` shown by the page there.
pub fn to(path: &str, flash: Flash) -> Response {
    let mut resp = Redirect::to(path).into_response();
    let cookie = format!("{FLASH_COOKIE}={flash}; Path=/; Max-Age={MAX_AGE}; HttpOnly; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// The flash a request carries, if its cookie names one.
pub fn carried(headers: &axum::http::HeaderMap) -> Option<Flash> {
    CookieJar::from_headers(headers).get(FLASH_COOKIE).and_then(|c| Flash::parse(c.value()))
}

/// Middleware: once a page has been shown (a `200` HTML answer, which every page renders with
/// the flash), the cookie that carried the flash is removed, so the message does not show again.
pub async fn clear_shown(req: Request, next: Next) -> Response {
    let had = CookieJar::from_headers(req.headers()).get(FLASH_COOKIE).is_some();
    let mut resp = next.run(req).await;
    let page = resp.status() == StatusCode::OK
        && resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/html"));
    if had && page {
        resp.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_static("th_flash=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::{I18n, Lang};

    #[test]
    fn every_flash_has_a_text_in_both_languages_and_every_text_a_flash() {
        let i18n = I18n::load().expect("i18n files parse");
        for lang in [Lang::Zh, Lang::En] {
            for f in Flash::ALL {
                assert!(i18n.lookup(lang, &f.text_key()).is_some_and(|t| !t.is_empty()), "{lang:?} {}", f.text_key());
            }
            let stray: Vec<&str> = i18n
                .keys(lang)
                .filter_map(|k| k.strip_prefix("flash."))
                .filter(|k| Flash::parse(k).is_none())
                .collect();
            assert!(stray.is_empty(), "{lang:?}: texts of no flash: {stray:?}");
        }
    }

    #[test]
    fn the_cookie_holds_a_key_and_only_a_key_is_read_back() {
        let resp = to("/tenders/x", Flash::TenderPublished);
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let cookie = resp.headers().get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(cookie.starts_with("th_flash=tender_published;") && cookie.contains("Max-Age=60"), "{cookie}");
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("th_flash=tender_published"));
        assert_eq!(carried(&headers), Some(Flash::TenderPublished));
        headers.insert(header::COOKIE, HeaderValue::from_static("th_flash=%3Cscript%3E"));
        assert_eq!(carried(&headers), None, "anything else is not shown");
    }
}
