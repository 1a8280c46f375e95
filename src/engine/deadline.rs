//! The upstream response deadline: counted from the moment the request has
//! been sent in full, so a slow upload is not mistaken for a silent server.

use std::future::Future;
use std::time::Duration;

/// Await `sending` (the upstream request, resolving at its response head);
/// once `request_sent` fires (or its sender is dropped), allow `limit` more.
/// `Err(limit)` when the deadline passed first.
pub async fn response_head<F: Future>(
    sending: F,
    request_sent: tokio::sync::oneshot::Receiver<()>,
    limit: Option<Duration>,
) -> Result<F::Output, Duration> {
    let Some(limit) = limit else {
        return Ok(sending.await);
    };
    tokio::pin!(sending);
    tokio::select! {
        biased;
        out = &mut sending => return Ok(out),
        _ = request_sent => {}
    }
    tokio::time::timeout(limit, sending)
        .await
        .map_err(|_| limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_clock_starts_when_the_request_is_sent() {
        let (sent, request_sent) = tokio::sync::oneshot::channel();
        let limit = Duration::from_secs(600);
        let start = tokio::time::Instant::now();
        let upload = async move {
            tokio::time::sleep(Duration::from_secs(900)).await;
            let _ = sent.send(());
            std::future::pending::<()>().await
        };
        let out = response_head(upload, request_sent, Some(limit)).await;
        assert_eq!(out, Err(limit));
        assert_eq!(start.elapsed(), Duration::from_secs(1500));
    }
}
