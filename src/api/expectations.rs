//! `PUT expectation`, and the seam through which the capture routes list
//! and clear the mock module's expectations.

use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::active::ActiveExpectations;
use super::call::Call;
use super::context::ApiContext;
use super::reply::{error, json_response};
use crate::engine::UpstreamBody;
use crate::mock::Expectations;

/// `PUT expectation`: one expectation or an array (or a fixture file's
/// content); answers 201 with them as stored, or 400 naming the JSON path.
pub fn put_expectation(ctx: &ApiContext, call: &Call) -> Response<UpstreamBody> {
    let Some(mock) = &ctx.mock else {
        return error(
            StatusCode::NOT_FOUND,
            "this llmspy serves no mock expectations",
        );
    };
    let doc: Value = match serde_json::from_slice(&call.body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("the expectation is not JSON: {e}"),
            );
        }
    };
    match mock.upsert_json(&doc) {
        Ok(stored) => json_response(StatusCode::CREATED, &Value::Array(stored)),
        Err(e) => json_response(
            StatusCode::BAD_REQUEST,
            &json!({ "error": format!("incorrect expectation: {e}") }),
        ),
    }
}

impl ActiveExpectations for Expectations {
    fn active(&self) -> Vec<Value> {
        self.list()
    }

    fn remove_where(&self, remove: &dyn Fn(&Value) -> bool) -> usize {
        Expectations::remove_where(self, remove)
    }
}
