//! Which names hold credentials: headers, JSON and form fields, query
//! parameters. One list each, so every part of the redaction (and the
//! OpenAPI export, which describes credentials as security rather than
//! parameters) agrees on what is secret.

/// Headers whose whole value is a credential.
const SECRET_HEADERS: [&str; 5] = [
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
];

/// Body fields and query parameters holding credentials, compared after
/// lower-casing and dropping `_` and `-`, so `api_key`, `apiKey` and
/// `api-key` are one name.
const SECRET_FIELDS: [&str; 10] = [
    "apikey",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "sessiontoken",
    "clientsecret",
    "password",
    "secretkey",
    "privatekey",
    "secretaccesskey",
];

/// True for headers whose value is a credential (cookies included).
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(name))
        || is_cookie_header(name)
        || is_aws_credential(name)
}

/// AWS SigV4 credentials in a header or a presigned URL's query:
/// `x-amz-security-token`, `X-Amz-Credential`, `X-Amz-Signature`. The
/// signature itself is in `authorization`; `x-amz-date` and
/// `x-amz-content-sha256` are not secret and stay.
fn is_aws_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("x-amz-")
        && ["token", "credential", "signature"]
            .iter()
            .any(|w| name.contains(w))
}

fn is_cookie_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("cookie") || name.eq_ignore_ascii_case("set-cookie")
}

/// True for JSON/form field names that hold credentials.
pub fn is_secret_field(name: &str) -> bool {
    let folded: String = name
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    SECRET_FIELDS.contains(&folded.as_str())
}

/// True for query parameters that carry credentials (Gemini's `key=`).
pub fn is_secret_query(name: &str) -> bool {
    name.eq_ignore_ascii_case("key") || is_secret_field(name) || is_aws_credential(name)
}
