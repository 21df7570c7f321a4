//! Notices by SMS: the kinds that have an SMS template, the request sent to the centre's gateway,
//! and the gateway adapter.
//!
//! Chinese SMS gateways send only texts from templates registered with them beforehand: a
//! request names a template and gives its parameters, and the gateway fills them in after the
//! centre's signature (签名). So the texts are not sent, only the parameters; the templates the
//! centre registers are the catalogues' `sms.<kind>` texts, one per language (template id
//! `TH_<KIND>_ZH` or `_EN`). A parameter is cut to [`MAX_PARAM_CHARS`] and a template is short
//! enough that no text can pass [`MAX_SMS_CHARS`] (a unit test fills every template with
//! parameters of the longest length): a long text is never sent.
//!
//! The protocol (docs/notifications.md, "The SMS gateway protocol") is HTTP with a JSON body,
//! signed with the platform's Ed25519 key, with an idempotency key per delivery that the gateway
//! must honour: a request sent again after a lost answer is answered as the first was and sends
//! nothing.

use crate::{
    keys::PlatformKey,
    notify::{NoticeKind, model::Args},
    web::i18n::{I18n, Lang},
};
use serde::Serialize;
use std::{collections::BTreeMap, sync::Arc};

/// The longest a parameter may be, in characters; longer ones are cut with an ellipsis.
pub const MAX_PARAM_CHARS: usize = 20;
/// The longest text a template can make with its signature, in characters (two segments).
pub const MAX_SMS_CHARS: usize = 134;

/// A kind that can go by SMS: its parameters (a subset of the notice's arguments) and whether
/// it is urgent (sent in quiet hours too).
#[derive(Debug, Clone, Copy)]
pub struct SmsKind {
    /// The notice's kind.
    pub kind: NoticeKind,
    /// The template's parameters, in order.
    pub params: &'static [&'static str],
    /// Sent in quiet hours too.
    pub urgent: bool,
}

/// The kinds with an SMS template.
pub const SMS_KINDS: &[SmsKind] = &[
    SmsKind { kind: NoticeKind::ClarificationIssued, params: &["title", "deadline"], urgent: false },
    SmsKind { kind: NoticeKind::BidReceipt, params: &["title", "at"], urgent: false },
    SmsKind { kind: NoticeKind::ExpertInvited, params: &["session", "site", "answer_by"], urgent: false },
    SmsKind { kind: NoticeKind::CandidatesPublished, params: &["title", "until"], urgent: false },
    SmsKind { kind: NoticeKind::ChallengeAnswered, params: &["title", "until"], urgent: false },
    SmsKind { kind: NoticeKind::AwardWon, params: &["title", "amount"], urgent: false },
    SmsKind { kind: NoticeKind::AwardResult, params: &["title"], urgent: false },
    SmsKind { kind: NoticeKind::ContractReminder, params: &["title", "due"], urgent: false },
    SmsKind { kind: NoticeKind::OrderSubmitted, params: &["code", "amount"], urgent: false },
    SmsKind { kind: NoticeKind::QuotationInvitation, params: &["title", "closes"], urgent: false },
    SmsKind { kind: NoticeKind::RegistrationApproved, params: &["name"], urgent: false },
    SmsKind { kind: NoticeKind::RegistrationRejected, params: &["name"], urgent: false },
    SmsKind { kind: NoticeKind::BidInvitation, params: &["title", "deadline"], urgent: false },
    SmsKind { kind: NoticeKind::BidDeadlineNear, params: &["title", "deadline"], urgent: false },
    SmsKind { kind: NoticeKind::OpeningStarted, params: &["title"], urgent: false },
    SmsKind { kind: NoticeKind::DecryptionOpened, params: &["title", "until"], urgent: false },
    SmsKind { kind: NoticeKind::DecryptionClosing, params: &["title", "until"], urgent: true },
    SmsKind { kind: NoticeKind::DecryptionFailed, params: &["title"], urgent: false },
    SmsKind { kind: NoticeKind::ObjectionAnswered, params: &["title"], urgent: false },
    SmsKind { kind: NoticeKind::EvaluationSoon, params: &["session", "site"], urgent: false },
    SmsKind { kind: NoticeKind::QuotationResult, params: &["title"], urgent: false },
    SmsKind { kind: NoticeKind::TenderMatch, params: &["title", "deadline"], urgent: false },
];

/// The SMS kind of `kind`, if it has a template.
pub fn sms_kind(kind: NoticeKind) -> Option<&'static SmsKind> {
    SMS_KINDS.iter().find(|k| k.kind == kind)
}

/// The template id the centre registers for `kind` in `lang`.
pub fn template_id(kind: NoticeKind, lang: Lang) -> String {
    let l = match lang {
        Lang::Zh => "ZH",
        Lang::En => "EN",
    };
    format!("TH_{}_{l}", kind.as_str().to_ascii_uppercase())
}

/// The catalogue key of the template's text.
pub fn template_key(kind: NoticeKind) -> String {
    format!("sms.{kind}")
}

/// `s` cut to [`MAX_PARAM_CHARS`].
pub fn cut(s: &str) -> String {
    if s.chars().count() <= MAX_PARAM_CHARS {
        return s.to_string();
    }
    let mut c: String = s.chars().take(MAX_PARAM_CHARS - 1).collect();
    c.push('…');
    c
}

/// What goes to the gateway for one delivery.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SmsRequest {
    /// The protocol's version (1).
    pub version: u32,
    /// The delivery's public id.
    pub message: uuid::Uuid,
    /// The mobile number, 11 digits.
    pub phone: String,
    /// The centre's signature.
    pub sign: String,
    /// The registered template.
    pub template: String,
    /// Its parameters, each at most [`MAX_PARAM_CHARS`].
    pub params: BTreeMap<String, String>,
}

/// The request for a notice of `kind` with `args` in `lang`; none if the kind has no template.
pub fn request(
    i18n: &I18n,
    lang: Lang,
    kind: NoticeKind,
    args: &Args,
    message: uuid::Uuid,
    phone: &str,
    sign: &str,
) -> Option<SmsRequest> {
    let k = sms_kind(kind)?;
    let shown = crate::notify::render::shown_args(i18n, lang, args);
    let params =
        k.params.iter().map(|p| (p.to_string(), cut(shown.get(*p).map(String::as_str).unwrap_or("")))).collect();
    Some(SmsRequest {
        version: 1,
        message,
        phone: phone.to_string(),
        sign: sign.to_string(),
        template: template_id(kind, lang),
        params,
    })
}

/// Whether `phone` is a mainland mobile number (11 digits, 1[3-9]…).
pub fn is_mobile(phone: &str) -> bool {
    let b = phone.as_bytes();
    b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) && b.iter().all(u8::is_ascii_digit)
}

/// Why a gateway did not take a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsFailure {
    /// Try again later (a 5xx answer, 408, 429, no answer).
    Transient(String),
    /// Never (a 4xx answer: a number it will not serve, a template it does not know).
    Permanent(String),
}

/// A gateway that sends SMS.
#[async_trait::async_trait]
pub trait SmsGateway: Send + Sync + std::fmt::Debug {
    /// Whether it is set up; deliveries wait while it is not.
    fn ready(&self) -> bool;
    /// Sends one message; returns the gateway's id of it.
    async fn send(&self, idempotency_key: &str, req: &SmsRequest) -> Result<String, SmsFailure>;
}

/// The HTTP JSON gateway of docs/notifications.md.
#[derive(Debug, Clone)]
pub struct HttpGateway {
    /// The gateway's address; empty: not set up.
    pub endpoint: String,
    /// How long an answer is waited for.
    pub timeout: std::time::Duration,
    /// Signs the requests.
    pub key: Arc<PlatformKey>,
    /// The HTTP client.
    pub http: reqwest::Client,
}

#[async_trait::async_trait]
impl SmsGateway for HttpGateway {
    fn ready(&self) -> bool {
        !self.endpoint.trim().is_empty()
    }

    async fn send(&self, idempotency_key: &str, req: &SmsRequest) -> Result<String, SmsFailure> {
        let body = serde_json::to_vec(req).map_err(|e| SmsFailure::Permanent(e.to_string()))?;
        let signature = hex::encode(self.key.sign(&body));
        let sent = self
            .http
            .post(self.endpoint.trim())
            .timeout(self.timeout)
            .header("content-type", "application/json")
            .header("idempotency-key", idempotency_key)
            .header("x-tenderhall-key-id", self.key.key_id())
            .header("x-tenderhall-signature", signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => match r.json::<serde_json::Value>().await {
                Ok(v) => v["message_id"]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| SmsFailure::Transient("answer without message_id".into())),
                Err(e) => Err(SmsFailure::Transient(format!("answer unreadable: {e}"))),
            },
            Ok(r) => {
                let status = r.status();
                let text: String = r.text().await.unwrap_or_default().chars().take(200).collect();
                let what = format!("HTTP {status}: {text}");
                if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
                    Err(SmsFailure::Permanent(what))
                } else {
                    Err(SmsFailure::Transient(what))
                }
            }
            Err(e) => Err(SmsFailure::Transient(format!("not sent or no answer: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::render::{fill, placeholders};

    #[test]
    fn no_template_can_make_a_text_longer_than_the_limit() {
        let i18n = I18n::load().expect("catalogues");
        let sign = "交易平台";
        for k in SMS_KINDS {
            for lang in [Lang::Zh, Lang::En] {
                let key = template_key(k.kind);
                let t = i18n.lookup(lang, &key).unwrap_or_else(|| panic!("{lang:?}: no {key}"));
                assert_eq!(placeholders(t), k.params.to_vec(), "{lang:?} {key}: its parameters, in order");
                let longest = "长".repeat(MAX_PARAM_CHARS);
                let text = format!("【{sign}】{}", fill(t, |_| Some(longest.clone())));
                assert!(
                    text.chars().count() <= MAX_SMS_CHARS,
                    "{lang:?} {key}: {} characters at most is over {MAX_SMS_CHARS}",
                    text.chars().count()
                );
            }
        }
    }

    #[test]
    fn the_login_code_template_is_short_and_takes_the_code_and_the_minutes() {
        let i18n = I18n::load().expect("catalogues");
        for lang in [Lang::Zh, Lang::En] {
            let t = i18n.lookup(lang, "sms.login_code").expect("sms.login_code");
            assert_eq!(placeholders(t), vec!["code", "minutes"], "{lang:?}");
            let text = format!("【交易平台】{}", fill(t, |p| Some(if p == "code" { "123456" } else { "5" }.into())));
            assert!(text.chars().count() <= MAX_SMS_CHARS, "{lang:?}: {} characters", text.chars().count());
        }
    }

    #[test]
    fn every_parameter_is_an_argument_the_notice_is_raised_with() {
        for n in crate::notify::tests::raised() {
            if let Some(k) = sms_kind(n.kind) {
                for p in k.params {
                    assert!(n.args.contains_key(*p), "{}: no argument {p} for its SMS", n.kind);
                }
            }
        }
        for k in SMS_KINDS {
            assert!(crate::notify::tests::raised().iter().any(|n| n.kind == k.kind), "{} is raised", k.kind);
        }
    }

    #[test]
    fn parameters_are_cut_and_numbers_checked() {
        assert_eq!(cut("短"), "短");
        let c = cut(&"长".repeat(30));
        assert_eq!(c.chars().count(), MAX_PARAM_CHARS);
        assert!(c.ends_with('…'));
        assert!(is_mobile("13800138000"));
        for bad in ["12800138000", "1380013800", "138001380001", "1380013800a", "+8613800138000", ""] {
            assert!(!is_mobile(bad), "{bad}");
        }
        assert_eq!(template_id(NoticeKind::AwardWon, Lang::Zh), "TH_AWARD_WON_ZH");
    }
}
