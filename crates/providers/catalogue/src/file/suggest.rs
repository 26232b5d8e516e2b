//! Typo suggestions: the popular domain a mistyped one is closest to.

/// The candidate closest to `typed` by Damerau–Levenshtein distance (optimal string alignment:
/// insertions, deletions, substitutions and transpositions of neighbours each cost 1), if it
/// is close enough: 1 for names up to 6 characters, 2 for longer ones, and always less than
/// half the name, so that `gmx.de` is never "corrected" into an unrelated short domain. Ties go
/// to the earlier (more popular) candidate.
pub(super) fn closest<'a>(
    typed: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let typed = typed.trim_end_matches('.').to_ascii_lowercase();
    let limit = if typed.len() <= 6 { 1 } else { 2 };
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if candidate == typed {
            return None;
        }
        // Lengths that differ by more than the limit cannot be within it.
        if candidate.len().abs_diff(typed.len()) > limit {
            continue;
        }
        let distance = osa_distance(typed.as_bytes(), candidate.as_bytes());
        if distance <= limit && distance * 2 < typed.len() && best.is_none_or(|(d, _)| distance < d)
        {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// The optimal-string-alignment distance between two byte strings (domains are ASCII).
fn osa_distance(a: &[u8], b: &[u8]) -> usize {
    let width = b.len() + 1;
    // Three rows: two back (for transpositions), one back, current.
    let mut before: Vec<usize> = vec![0; width];
    let mut previous: Vec<usize> = (0..width).collect();
    let mut current: Vec<usize> = vec![0; width];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut value = (previous[j] + 1).min(current[j - 1] + 1).min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                value = value.min(before[j - 2] + 1);
            }
            current[j] = value;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const POPULAR: [&str; 8] = [
        "gmail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "gmx.de",
        "gmx.net",
        "aol.com",
        "web.de",
    ];

    fn suggest(typed: &str) -> Option<&'static str> {
        closest(typed, POPULAR.iter().copied())
    }

    #[test]
    fn common_typos_are_corrected() {
        assert_eq!(suggest("gmial.com"), Some("gmail.com"));
        assert_eq!(suggest("hotmial.com"), Some("hotmail.com"));
        assert_eq!(suggest("yaho.com"), Some("yahoo.com"));
        assert_eq!(suggest("gmail.con"), Some("gmail.com"));
        assert_eq!(suggest("GMAIL.CMO"), Some("gmail.com"));
        assert_eq!(suggest("outlok.com"), Some("outlook.com"));
    }

    #[test]
    fn real_or_distant_domains_are_left_alone() {
        assert_eq!(suggest("gmail.com"), None);
        assert_eq!(suggest("gmx.de"), None, "a popular domain itself");
        assert_eq!(suggest("example.com"), None);
        assert_eq!(suggest("gmx.at"), None, "two edits on a short name");
        assert_eq!(suggest("a.de"), None);
    }

    #[test]
    fn the_distance_counts_transpositions_once() {
        assert_eq!(osa_distance(b"ab", b"ba"), 1);
        assert_eq!(osa_distance(b"kitten", b"sitting"), 3);
        assert_eq!(osa_distance(b"", b"abc"), 3);
        assert_eq!(osa_distance(b"abc", b"abc"), 0);
    }
}
