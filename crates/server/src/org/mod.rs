//! Organization structure: departments, posts (岗位) with duties and authority, staff.
//! `service` holds the transactions, `pages` the HTML, `api` the JSON endpoints.

pub mod api;
pub mod pages;
pub mod service;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;

/// HTML routes (the API routes are mounted by `crate::api`).
pub fn routes() -> Router<AppState> {
    use pages::*;
    Router::new()
        .route("/org/departments", get(departments).post(department_create))
        .route("/org/departments/new", get(department_new))
        .route(
            "/org/departments/{id}",
            get(department_view).post(department_update),
        )
        .route("/org/departments/{id}/edit", get(department_edit))
        .route("/org/departments/{id}/retire", post(department_retire))
        .route("/org/departments/{id}/restore", post(department_restore))
        .route("/org/posts", get(posts).post(post_create))
        .route("/org/posts/new", get(post_new))
        .route("/org/posts/{id}", get(post_view).post(post_update))
        .route("/org/posts/{id}/edit", get(post_edit))
        .route("/org/posts/{id}/retire", post(post_retire))
        .route("/org/posts/{id}/restore", post(post_restore))
        .route("/org/staff", get(staff).post(staff_create))
        .route("/org/staff/new", get(staff_new))
        .route("/org/staff/{id}", get(staff_view).post(staff_update))
        .route("/org/staff/{id}/edit", get(staff_edit))
        .route("/org/staff/{id}/retire", post(staff_retire))
        .route("/org/staff/{id}/restore", post(staff_restore))
}
