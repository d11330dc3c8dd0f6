//! Where a request's redirects led. reqwest follows redirects inside the
//! future of one request and, when the host it was sent to fails (an object
//! store this machine cannot reach behind a registry it can), names the URL
//! it was first given. The redirect policy records each hop it allows in a
//! task-local that only the future of that one request is polled under, so
//! requests in flight at once never see each other's hops.

use std::cell::RefCell;
use std::future::Future;

use reqwest::Url;

tokio::task_local! {
    static REACHED: RefCell<Option<Url>>;
}

/// Notes that the request being polled now is redirected to `url` (called by
/// the redirect policy, inside the request's future).
pub fn note_hop(url: &Url) {
    // Outside `followed` (a request sent some other way) nobody asks.
    let _ = REACHED.try_with(|reached| *reached.borrow_mut() = Some(url.clone()));
}

/// Runs `request` and says the last URL a redirect led it to, if any.
pub async fn followed<F: Future>(request: F) -> (F::Output, Option<Url>) {
    REACHED
        .scope(RefCell::new(None), async {
            let out = request.await;
            (out, REACHED.with(|reached| reached.borrow_mut().take()))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[tokio::test]
    async fn the_last_hop_noted_inside_a_request_is_its_answer() {
        let (out, reached) = followed(async {
            note_hop(&url("https://cdn.example/a"));
            note_hop(&url("https://store.example/b"));
            7
        })
        .await;
        assert_eq!(out, 7);
        assert_eq!(reached, Some(url("https://store.example/b")));
    }

    #[tokio::test]
    async fn requests_in_flight_at_once_keep_their_hops_apart() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let first = followed(async {
            note_hop(&url("https://one.example/"));
            rx.await.unwrap();
        });
        let second = followed(async {
            tx.send(()).unwrap();
        });
        let ((_, one), (_, two)) = tokio::join!(first, second);
        assert_eq!(one, Some(url("https://one.example/")));
        assert_eq!(two, None);
    }

    #[test]
    fn a_hop_outside_any_request_is_ignored() {
        note_hop(&url("https://nowhere.example/"));
    }
}
