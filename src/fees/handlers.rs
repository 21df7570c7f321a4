//! The fee-rates page: `/admin/sites/{id}/fee-rates`, a site's rate table in 元 (read by the
//! centre's staff, supervisors and the administrator; changed by the centre's staff).

use super::{Fees, Rate};
use crate::{
    accounts::model::Actor,
    error::{AppError, AppResult, FieldError},
    money::Money,
    web::{
        extract::Path,
        flash::{self, Flash},
        form::{FormState, Values},
        page::{PageCtx, render_form},
    },
};
use askama::Template;
use axum::{Router, extract::State, response::Response, routing::get};
use uuid::Uuid;

/// The page routes of this module.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Fees: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    Router::new().route("/admin/sites/{id}/fee-rates", get(page).post(save))
}

#[derive(Template)]
#[template(path = "sites/fee_rates.html")]
struct RatesPage {
    ctx: PageCtx,
    site: Uuid,
    site_name: String,
    rate: Rate,
    can_set: bool,
    /// The form: as sent and refused, or filled with the table.
    f: FormState,
}

/// The amounts of the form, typed in 元.
const AMOUNTS: [&str; 4] = ["base", "hourly", "daily_cap", "withdrawn"];

/// The form's values read into a rate table: amounts in 元 with at most two decimals, whole
/// numbers for the hours and the factor; every unreadable field is named.
fn rate_input(values: &Values) -> AppResult<Rate> {
    let mut fields = Vec::new();
    let mut amount = |name: &'static str| -> Money {
        let v = values.get(name).trim();
        if v.is_empty() {
            fields.push(FieldError::new(name, "required"));
            return Money::ZERO;
        }
        Money::parse_yuan(v).unwrap_or_else(|_| {
            fields.push(FieldError::new(name, "invalid_amount"));
            Money::ZERO
        })
    };
    let [base, hourly, daily_cap, withdrawn] = AMOUNTS.map(&mut amount);
    let mut whole = |name: &'static str| -> i32 {
        values.get(name).trim().parse::<i32>().unwrap_or_else(|_| {
            fields.push(FieldError::new(name, "invalid"));
            0
        })
    };
    let (base_hours, holiday_factor) = (whole("base_hours"), whole("holiday_factor"));
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    Ok(Rate { base, base_hours, hourly, daily_cap, withdrawn, holiday_factor })
}

fn filled(rate: &Rate) -> Values {
    Values::from_pairs([
        ("base", rate.base.yuan_string()),
        ("base_hours", rate.base_hours.to_string()),
        ("hourly", rate.hourly.yuan_string()),
        ("daily_cap", rate.daily_cap.yuan_string()),
        ("withdrawn", rate.withdrawn.yuan_string()),
        ("holiday_factor", rate.holiday_factor.to_string()),
    ])
}

async fn page(State(state): State<Fees>, ctx: PageCtx, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Response> {
    form_page(&state, ctx, &actor, id, FormState::blank()).await
}

async fn form_page(state: &Fees, ctx: PageCtx, actor: &Actor, id: Uuid, f: FormState) -> AppResult<Response> {
    let rate = super::rates(state, actor, id).await?;
    let site_name = crate::sites::service::view(&state.db, actor, id).await?.site.name;
    let page = RatesPage {
        f: f.or_filled("rates", filled(&rate)),
        site: id,
        site_name,
        rate,
        can_set: crate::mall::policy::is_centre_staff(actor),
        ctx,
    };
    Ok(render_form(&page, &page.f))
}

async fn save(
    State(state): State<Fees>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let done = match rate_input(&values) {
        Ok(rate) => super::set_rates(&state, &actor, id, rate).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Ok(flash::to(&format!("/admin/sites/{id}/fee-rates"), Flash::FeeRatesSaved)),
        Err(e) => {
            let f = FormState::refused("rates", &ctx.t, values, e)?;
            form_page(&state, ctx, &actor, id, f).await
        }
    }
}
