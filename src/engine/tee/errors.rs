//! The errors a tee yields in place of a frame: the stream went idle, the
//! client stalled or broke its own request body.

use std::time::Duration;

use crate::exchange::{Failure, FailureKind};

/// The error a tee yields when the stream went idle too long.
#[derive(Debug, thiserror::Error)]
#[error("no data for {0:?}: stream idle timeout")]
pub struct IdleTimeout(pub Duration);

/// The error a request tee yields when the client stopped sending its body.
#[derive(Debug, thiserror::Error)]
#[error("the client sent no request body data for {} (clientIdleTimeoutSeconds)", super::super::guard::seconds(*.0))]
pub struct ClientStalled(pub Duration);

/// The error a request tee yields when the client's own body broke (a
/// malformed chunk, a connection closed mid-upload): it travels through
/// the upstream client's error, so the failure blames the client, not
/// the upstream that only stopped receiving.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.message)]
pub struct ClientBodyBroke(pub Failure);

impl ClientBodyBroke {
    pub(super) fn of(e: &(dyn std::error::Error + 'static)) -> ClientBodyBroke {
        let detail = super::super::failure::chain(e);
        // hyper reports a bad chunk as invalid input or data read from the
        // socket, a body cut short as an unexpected end of file.
        let malformed = super::super::failure::find::<hyper::Error>(e)
            .is_some_and(hyper::Error::is_parse)
            || super::super::failure::find::<std::io::Error>(e).is_some_and(|io| {
                matches!(
                    io.kind(),
                    std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput
                )
            });
        ClientBodyBroke(if malformed {
            Failure::new(
                FailureKind::MalformedRequest,
                format!("the client sent a malformed request body: {detail}"),
            )
        } else {
            Failure::new(
                FailureKind::ClientGone,
                format!("the client's request body broke off before its end: {detail}"),
            )
        })
    }
}
