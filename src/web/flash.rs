//! The message a page shows once after an action succeeded ("项目已发布").
//!
//! A page handler that changed something redirects with [`to`], naming a [`Flash`]. The
//! middleware [`carry`] turns that into a short-lived cookie holding the flash's key, never a
//! text (named and flagged as the other cookies, [`super::auth::Cookies`]). The next page reads
//! the cookie ([`super::page::PageCtx::flash`]), shows the catalogue text `flash.<key>` in the
//! reader's language, and [`carry`] removes the cookie with that page's answer, so the message
//! shows once. A cookie value that is not a flash is ignored.

use crate::{column::string_enum, web::Site};
use axum::{
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};

/// Seconds the cookie lives: long enough for the redirect to be followed.
const MAX_AGE: i64 = 60;

string_enum! {
    /// What succeeded; its text is `flash.<key>` in the message catalogues.
    Flash {
        /// A draft tender was saved.
        TenderSaved = "tender_saved",
        /// A draft's evaluation criteria were saved.
        CriteriaSaved = "criteria_saved",
        /// A step of an evaluation session was recorded.
        EvaluationSaved = "evaluation_saved",
        /// A member's step went to the host's session, which has not answered yet.
        FederationQueued = "federation_queued",
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
        /// A draw was prepared: the platform committed to its secret.
        DrawPrepared = "draw_prepared",
        /// A draw's request was recorded.
        DrawRequested = "draw_requested",
        /// The supervisor contributed and the draw ran.
        DrawRun = "draw_run",
        /// An answer was recorded for an expert.
        DrawAnswered = "draw_answered",
        /// A draw's result was published.
        DrawPublished = "draw_published",
        /// The expert answered its invitation.
        InvitationAnswered = "invitation_answered",
        /// The candidates of a tender's lots were published.
        CandidatesPublished = "candidates_published",
        /// A challenge was filed.
        ChallengeFiled = "challenge_filed",
        /// A challenge was answered.
        ChallengeAnswered = "challenge_answered",
        /// A complaint was made.
        ComplaintFiled = "complaint_filed",
        /// A complaint was decided.
        ComplaintDecided = "complaint_decided",
        /// A lot's winner was chosen.
        LotAwarded = "lot_awarded",
        /// A lot's contract was recorded.
        ContractRecorded = "contract_recorded",
        /// An expert was rated.
        ExpertRated = "expert_rated",
        /// A staff account was added.
        StaffAdded = "staff_added",
        /// A staff account was disabled.
        StaffDisabled = "staff_disabled",
        /// A staff account was enabled again.
        StaffEnabled = "staff_enabled",
        /// A staff account's password was reset.
        StaffPasswordReset = "staff_password_reset",
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
        /// A site was created or changed.
        SiteSaved = "site_saved",
        /// A site's fee rates were saved.
        FeeRatesSaved = "fee_rates_saved",
        /// A user's choices of notices were saved.
        PreferencesSaved = "preferences_saved",
        /// A subscription to tender notices was made.
        SubscriptionSaved = "subscription_saved",
        /// A subscription to tender notices was deleted.
        SubscriptionDeleted = "subscription_deleted",
        /// A user turned its login codes on or off.
        LoginCodesSaved = "login_codes_saved",
        /// The suppliers invited to a tender were saved.
        InvitationsSaved = "invitations_saved",
        /// A guest deployment's members were seated in the session.
        RemoteSeated = "remote_seated",
        /// A user was bound to a site.
        SiteMemberAdded = "site_member_added",
        /// A user was unbound from a site.
        SiteMemberRemoved = "site_member_removed",
        /// An expert was added to the pool.
        ExpertCreated = "expert_created",
        /// An expert's record was changed.
        ExpertSaved = "expert_saved",
        /// An expert was suspended.
        ExpertSuspended = "expert_suspended",
        /// An expert was reactivated.
        ExpertReactivated = "expert_reactivated",
        /// An employment was added or removed.
        EmploymentSaved = "employment_saved",
        /// A conflict was declared or removed.
        ConflictSaved = "conflict_saved",
        /// Unavailable days were added or removed.
        UnavailableSaved = "unavailable_saved",
        /// An expert's login was created.
        ExpertAccountCreated = "expert_account_created",
        /// Experts were imported.
        ExpertsImported = "experts_imported",
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
    resp.extensions_mut().insert(flash);
    resp
}

/// The flash a request carries, if its cookie (named by `cookies`) names one.
pub fn carried(headers: &axum::http::HeaderMap, cookies: &super::auth::Cookies) -> Option<Flash> {
    CookieJar::from_headers(headers).get(cookies.flash).and_then(|c| Flash::parse(c.value()))
}

/// Middleware: a redirect made with [`to`] sets the cookie of its flash; once a page has been
/// shown (a `200` HTML answer, which every page renders with the flash), the cookie that carried
/// it is removed, so the message does not show again.
pub async fn carry(State(site): State<Site>, req: Request, next: Next) -> Response {
    let had = CookieJar::from_headers(req.headers()).get(site.cookies.flash).is_some();
    let mut resp = next.run(req).await;
    if let Some(flash) = resp.extensions_mut().remove::<Flash>() {
        let cookie = site.cookies.flash_cookie(flash.as_str(), MAX_AGE);
        resp.headers_mut().append(header::SET_COOKIE, cookie);
        return resp;
    }
    let page = resp.status() == StatusCode::OK
        && resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/html"));
    if had && page {
        resp.headers_mut().append(header::SET_COOKIE, site.cookies.clear_flash_cookie());
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::{
        auth::Cookies,
        i18n::{I18n, Lang},
    };
    use axum::http::HeaderValue;

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
        assert_eq!(resp.extensions().get::<Flash>(), Some(&Flash::TenderPublished));
        for (cookies, name) in [(Cookies::PLAIN, "th_flash"), (Cookies::SECURE, "__Host-th_flash")] {
            let set = cookies.flash_cookie(Flash::TenderPublished.as_str(), MAX_AGE);
            let set = set.to_str().unwrap_or_default();
            assert!(set.starts_with(&format!("{name}=tender_published;")) && set.contains("Max-Age=60"), "{set}");
            assert_eq!(set.contains("; Secure"), cookies.secure, "{set}");
            let mut headers = axum::http::HeaderMap::new();
            let sent = HeaderValue::from_str(&format!("{name}=tender_published")).expect("header");
            headers.insert(header::COOKIE, sent);
            assert_eq!(carried(&headers, &cookies), Some(Flash::TenderPublished));
            let forged = HeaderValue::from_str(&format!("{name}=%3Cscript%3E")).expect("header");
            headers.insert(header::COOKIE, forged);
            assert_eq!(carried(&headers, &cookies), None, "anything else is not shown");
        }
    }
}
