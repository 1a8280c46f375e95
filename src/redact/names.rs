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

/// How other credential headers end: gateways' and clouds' own keys
/// (`x-portkey-api-key`, Azure API Management's
/// `Ocp-Apim-Subscription-Key`, `x-auth-token`, …).
const SECRET_HEADER_ENDINGS: [&str; 6] = [
    "-api-key",
    "-apikey",
    "-auth-token",
    "-access-token",
    "-session-token",
    "-subscription-key",
];

/// True for headers whose value is a credential (cookies included).
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(name))
        || is_cookie_header(name)
        || is_aws_credential(name)
        || SECRET_HEADER_ENDINGS.iter().any(|end| {
            name.len() > end.len()
                && name.as_bytes()[name.len() - end.len()..].eq_ignore_ascii_case(end.as_bytes())
        })
}

/// AWS SigV4 credentials in a header or a presigned URL's query:
/// `x-amz-security-token`, `X-Amz-Credential`, `X-Amz-Signature`. The
/// signature itself is in `authorization`; `x-amz-date` and
/// `x-amz-content-sha256` are not secret and stay.
fn is_aws_credential(name: &str) -> bool {
    name.len() > 6
        && name.as_bytes()[..6].eq_ignore_ascii_case(b"x-amz-")
        && ["token", "credential", "signature"]
            .iter()
            .any(|w| contains_ignore_ascii_case(name, w))
}

/// `haystack` contains `needle` (lower-case ASCII), ignoring ASCII case;
/// without the lower-cased copy this is asked for every header name.
fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn is_cookie_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("cookie") || name.eq_ignore_ascii_case("set-cookie")
}

/// True for JSON/form field names that hold credentials.
pub fn is_secret_field(name: &str) -> bool {
    // Folded into a buffer on the stack, not a new string: this is asked
    // for every key of every JSON body redacted, and for every word of a
    // body checked for anything to mask.
    let mut buf = [0u8; 16];
    let mut len = 0;
    for b in name.bytes().filter(|b| *b != b'_' && *b != b'-') {
        if len == buf.len() {
            return false;
        }
        buf[len] = b.to_ascii_lowercase();
        len += 1;
    }
    SECRET_FIELDS.iter().any(|s| s.as_bytes() == &buf[..len])
}

/// True for query parameters that carry credentials (Gemini's `key=`, a
/// bare `token=`, an Azure SAS URL's `sig=`).
pub fn is_secret_query(name: &str) -> bool {
    ["key", "token", "sig"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(name))
        || is_secret_field(name)
        || is_aws_credential(name)
}
