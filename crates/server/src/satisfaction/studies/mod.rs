//! Satisfaction studies (满意度调查): the design with the sample-size calculator, the seeded
//! random sample drawn into invitations (one unguessable answer link per customer, with a QR
//! code and a printable sheet), the public answer page `/s/{token}` (no sign-in, Chinese,
//! phone-sized), staff phone entry, and the one save path every response goes through.
//! `service` holds the transactions, `pages` the staff HTML, `public` the customer's page
//! and its JSON twin, `api` the staff JSON, `qr` the SVG codes, `demo` the demo study.

pub mod api;
pub mod demo;
pub mod pages;
pub mod public;
pub mod qr;
pub mod service;

use axum::Router;
use axum::routing::{get, post};
use utoipa::OpenApi;

pub use demo::seed_demo;

use crate::app::AppState;

/// HTML and API routes of studies, and the public answer page.
pub fn routes() -> Router<AppState> {
    use pages::*;
    Router::new()
        .route("/studies", get(list).post(create))
        .route("/studies/new", get(new))
        .route("/studies/{id}", get(view).post(update))
        .route("/studies/{id}/edit", get(edit))
        .route("/studies/{id}/sample", post(draw))
        .route("/studies/{id}/open", post(open))
        .route("/studies/{id}/close", post(close))
        .route("/studies/{id}/invitations", post(add_invitation))
        .route("/studies/{id}/invitations/print", get(print))
        .route("/studies/{id}/invitations/{inv}/qr.svg", get(qr_svg))
        .route("/studies/{id}/invitations/{inv}/revoke", post(revoke))
        .route("/studies/{id}/invitations/{inv}/extend", post(extend))
        .route(
            "/studies/{id}/invitations/{inv}/answer",
            get(phone_form).post(phone_save),
        )
        .route("/survey-responses/{id}", get(response))
        .route(
            "/s/{token}",
            get(public::answer_page).post(public::answer_submit),
        )
        .route("/s/{token}/thanks", get(public::thanks))
        .route(
            "/api/v1/answers/{token}",
            get(public::api_questions).post(public::api_answer),
        )
        .merge(api::routes())
}

/// OpenAPI of studies, invitations, answers and the calculator.
#[derive(OpenApi)]
#[openapi(
    paths(
        api::list_studies,
        api::create_study,
        api::get_study,
        api::update_study,
        api::open_study,
        api::close_study,
        api::draw_sample,
        api::list_invitations,
        api::add_invitation,
        api::phone_answer,
        api::get_response,
        api::sample_size,
        public::api_questions,
        public::api_answer,
    ),
    components(schemas(
        store::satisfaction::studies::Study,
        store::satisfaction::studies::Response,
        store::satisfaction::studies::Answer,
        api::StudyInput,
        api::InvitationOut,
        api::InvitationAdd,
        api::AnswersBody,
        api::AnswerInput,
        api::Saved,
        api::SampleSize,
        api::ResponseOut,
        public::Questions,
    ))
)]
pub struct Api;
