//! Running alternatives at once while honouring their order ("parallel with priority").

use std::future::Future;
use std::pin::Pin;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

/// A boxed future of one alternative.
pub(crate) type Alternative<'a, T> = Pin<Box<dyn Future<Output = Option<T>> + Send + 'a>>;

/// Runs every alternative at once and returns the answer of the first one *in the given
/// order* that has one — as soon as it is known: when alternative `i` has answered and every
/// alternative before it has finished without an answer — followed by the answers of the
/// alternatives that had already finished by then (in the given order), so that nothing in
/// hand is lost. The rest are dropped (cancelled). Empty when no alternative answered.
pub(crate) async fn first_by_priority<'a, T: 'a>(alternatives: Vec<Alternative<'a, T>>) -> Vec<T> {
    first_by_class(alternatives.into_iter().enumerate().collect()).await
}

/// Like [`first_by_priority`], for alternatives in rank classes (lower is better) where
/// alternatives of one class have equal authority: the first answer *to arrive* in the best
/// class that has one wins, as soon as every alternative of a better class has finished
/// without an answer — a dead server never holds up an equally good answer already in hand.
/// The answers of alternatives that had finished by then follow, best class first.
pub(crate) async fn first_by_class<'a, T: 'a>(
    alternatives: Vec<(usize, Alternative<'a, T>)>,
) -> Vec<T> {
    let classes: Vec<usize> = alternatives.iter().map(|(class, _)| *class).collect();
    let mut finished = vec![false; classes.len()];
    // Answers in the order they arrived, with the alternative that gave each.
    let mut answers: Vec<(usize, T)> = Vec::new();
    let mut running: FuturesUnordered<_> = alternatives
        .into_iter()
        .enumerate()
        .map(|(index, (_, future))| async move { (index, future.await) })
        .collect();
    let mut order: Vec<usize> = classes.clone();
    order.sort_unstable();
    order.dedup();
    while let Some((index, result)) = running.next().await {
        finished[index] = true;
        if let Some(answer) = result {
            answers.push((index, answer));
        }
        // The best class that is not yet exhausted decides, if it has an answer.
        for &class in &order {
            let answered = answers.iter().any(|(i, _)| classes[*i] == class);
            if answered {
                answers.sort_by_key(|(i, _)| (classes[*i] != class, classes[*i]));
                return answers.into_iter().map(|(_, answer)| answer).collect();
            }
            let exhausted = (0..classes.len()).all(|i| classes[i] != class || finished[i]);
            if !exhausted {
                break;
            }
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
    async fn within_a_class_the_first_answer_to_arrive_wins() {
        let started = tokio::time::Instant::now();
        let got = first_by_class(vec![
            (0, after(5_000, Some(1))),
            (0, after(20, Some(2))),
            (1, after(10, Some(3))),
        ])
        .await;
        assert_eq!(got, [2, 3], "the equal-class answer wins; the finished runner-up is kept");
        assert_eq!(started.elapsed(), Duration::from_millis(20), "the dead one is not awaited");
    }

    #[tokio::test(start_paused = true)]
    async fn a_better_class_still_preempts_a_worse_one() {
        let started = tokio::time::Instant::now();
        let got = first_by_class(vec![(1, after(10, Some(3))), (0, after(50, Some(1)))]).await;
        assert_eq!(got, [1, 3]);
        assert_eq!(started.elapsed(), Duration::from_millis(50));
        let got = first_by_class(vec![(0, after(30, None)), (1, after(10, Some(3)))]).await;
        assert_eq!(got, [3]);
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_at_all_is_none() {
        assert!(first_by_priority::<u32>(vec![after(5, None), after(1, None)]).await.is_empty());
        assert!(first_by_priority::<u32>(Vec::new()).await.is_empty());
    }
}
