//! The subscriptions page (订阅, `/notifications/subscriptions`): the supplier's subscriptions,
//! a form to add one, and a button to delete each.

use super::{SubscriptionInput, SubscriptionView, Subscriptions};
use crate::{
    accounts::model::Actor,
    error::AppResult,
    tenders::criteria::ProcurementCategory,
    web::{
        extract::Path,
        flash::{self, Flash},
        form::{FormState, Values},
        page::{PageCtx, render_form},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::State,
    response::Response,
    routing::{get, post},
};
use uuid::Uuid;

/// Page routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Subscriptions: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/notifications/subscriptions", get(page).post(add))
        .route("/notifications/subscriptions/{id}/delete", post(remove))
}

#[derive(Template)]
#[template(path = "subscriptions/list.html")]
struct SubscriptionsPage {
    ctx: PageCtx,
    f: FormState,
    list: Vec<SubscriptionView>,
    categories: Vec<&'static str>,
    /// How many a user keeps, said in the reader's language.
    limit: String,
}

/// The entries of a text field: separated by commas (either width), 、, semicolons or lines.
/// A space stays inside an entry: `HP M404` is one keyword of two words.
fn entries(text: &str) -> Vec<String> {
    text.split([',', '，', '、', ';', '；', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect()
}

fn input_of(v: &Values) -> SubscriptionInput {
    SubscriptionInput {
        name: v.get("name").to_string(),
        categories: ProcurementCategory::ALL
            .iter()
            .filter(|c| v.sent(&format!("category.{}", c.as_str())))
            .map(|c| c.as_str().to_string())
            .collect(),
        regions: entries(v.get("regions")),
        keywords: entries(v.get("keywords")),
    }
}

async fn show(state: &Subscriptions, ctx: PageCtx, actor: &Actor, f: FormState) -> AppResult<Response> {
    let list = super::list(state, actor).await?;
    let limit = ctx.t.filled("subscriptions.limit", &[("max", super::MAX_PER_USER.to_string())]).unwrap_or_default();
    let page = SubscriptionsPage {
        ctx,
        f,
        list,
        categories: ProcurementCategory::ALL.iter().map(|c| c.as_str()).collect(),
        limit,
    };
    Ok(render_form(&page, &page.f))
}

async fn page(State(state): State<Subscriptions>, ctx: PageCtx, actor: Actor) -> AppResult<Response> {
    show(&state, ctx, &actor, FormState::blank()).await
}

async fn add(State(state): State<Subscriptions>, ctx: PageCtx, actor: Actor, values: Values) -> AppResult<Response> {
    match super::create(&state, &actor, input_of(&values)).await {
        Ok(_) => Ok(flash::to("/notifications/subscriptions", Flash::SubscriptionSaved)),
        Err(e) => {
            let f = FormState::refused("subscription", &ctx.t, values, e)?;
            show(&state, ctx, &actor, f).await
        }
    }
}

async fn remove(State(state): State<Subscriptions>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Response> {
    super::delete(&state, &actor, id).await?;
    Ok(flash::to("/notifications/subscriptions", Flash::SubscriptionDeleted))
}

#[cfg(test)]
mod tests {
    #[test]
    fn entries_split_at_list_marks_but_keep_spaces() {
        assert_eq!(super::entries("办公椅，HP M404、 打印机;\n;"), vec!["办公椅", "HP M404", "打印机"]);
        assert!(super::entries(" ，、 ").is_empty());
    }
}
