//! Request bodies and query strings read so that a bad one is a 400 naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::guard::BodyLimit;

/// The text between the first pair of backquotes of a serde message (`unknown field
/// \`procedure\``), if any.
fn quoted(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// The field a deserialization error is about: its path, or, for an unknown or missing
/// field, the path of that field.
fn field_of(path: &serde_path_to_error::Path, message: &str) -> String {
    let path = path.to_string();
    let path = if path == "." { String::new() } else { path };
    if message.starts_with("unknown field") || message.starts_with("missing field") {
        if let Some(name) = quoted(message) {
            let last = path.rsplit(['.', '[']).next().unwrap_or("");
            return if path.is_empty() {
                name.to_string()
            } else if last == name {
                path
            } else {
                format!("{path}.{name}")
            };
        }
    }
    path
}

/// A JSON request body (whatever the Content-Type says); a bad one is a 400 naming the field,
/// one over the server's body limit a 413.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<JsonBody<T>, ApiError> {
        let limit = req.extensions().get::<BodyLimit>().map(|l| l.0);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::payload_too_large(match limit {
                    Some(n) => format!(
                        "the body is larger than the server's limit of {n} bytes (--max-body)"
                    ),
                    None => format!("the body is too large: {e}"),
                })
            } else {
                ApiError::bad_request("", format!("cannot read the body: {e}"))
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses a JSON body; a bad one is a 400 naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "",
            "expected a JSON body, found none",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let message = e.inner().to_string();
        let field = field_of(e.path(), &message);
        ApiError::bad_request(field, format!("invalid JSON body: {message}"))
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request("", format!("invalid JSON body: {e}")))?;
    Ok(value)
}

/// A query string; an unknown parameter or a bad value is a 400 naming it.
#[derive(Debug, Clone)]
pub struct QueryOf<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryOf<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<QueryOf<T>, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(QueryOf)
            .map_err(|e| {
                let message = e.inner().to_string();
                let field = field_of(e.path(), &message);
                ApiError::bad_request(field, format!("invalid query string: {message}"))
            })
    }
}
