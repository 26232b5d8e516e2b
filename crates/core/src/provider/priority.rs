//! Running alternatives at once while honouring their order ("parallel with priority").

use std::future::Future;
use std::pin::Pin;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

/// A boxed future of one alternative.
pub type Alternative<'a, T> = Pin<Box<dyn Future<Output = Option<T>> + Send + 'a>>;

/// Runs every alternative at once and returns the answer of the first one *in the given
/// order* that has one — as soon as it is known: when alternative `i` has answered and every
/// alternative before it has finished without an answer — followed by the answers of the
/// alternatives that had already finished by then (in the given order), so that nothing in
/// hand is lost. The rest are dropped (cancelled). Empty when no alternative answered.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use nativeauth_core::plugin::first_by_priority;
///
/// let slow_but_preferred = Box::pin(async { tokio::time::sleep(std::time::Duration::from_millis(20)).await; Some("first") });
/// let fast = Box::pin(async { Some("second") });
/// assert_eq!(first_by_priority(vec![slow_but_preferred, fast]).await, ["first", "second"]);
/// # }
/// ```
pub async fn first_by_priority<'a, T: 'a>(alternatives: Vec<Alternative<'a, T>>) -> Vec<T> {
    let count = alternatives.len();
    let mut results: Vec<Option<Option<T>>> = (0..count).map(|_| None).collect();
    let mut running: FuturesUnordered<_> = alternatives
        .into_iter()
        .enumerate()
        .map(|(index, future)| async move { (index, future.await) })
        .collect();
    while let Some((index, result)) = running.next().await {
        results[index] = Some(result);
        // The first alternative that is still running or has an answer decides.
        let decided = results.iter().find(|slot| !matches!(slot, Some(None)));
        if let Some(Some(Some(_))) = decided {
            return results.into_iter().flatten().flatten().collect();
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn after<'a>(ms: u64, answer: Option<u32>) -> Alternative<'a, u32> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            answer
        })
    }

    #[tokio::test(start_paused = true)]
    async fn the_preferred_answer_wins_even_when_slower() {
        let started = tokio::time::Instant::now();
        assert_eq!(first_by_priority(vec![after(50, Some(1)), after(10, Some(2))]).await, [1, 2]);
        assert_eq!(started.elapsed(), Duration::from_millis(50));
    }

    #[tokio::test(start_paused = true)]
    async fn a_lower_answer_is_returned_once_the_preferred_ones_have_nothing() {
        let started = tokio::time::Instant::now();
        let got =
            first_by_priority(vec![after(30, None), after(10, Some(2)), after(10_000, Some(3))])
                .await;
        assert_eq!(got, [2]);
        assert_eq!(
            started.elapsed(),
            Duration::from_millis(30),
            "the slow third one is not awaited"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_at_all_is_none() {
        assert!(first_by_priority::<u32>(vec![after(5, None), after(1, None)]).await.is_empty());
        assert!(first_by_priority::<u32>(Vec::new()).await.is_empty());
    }
}
