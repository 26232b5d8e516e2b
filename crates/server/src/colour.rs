//! The brand colour made readable: WCAG 2.1 contrast (AA: 4.5:1 for text) against the page in
//! light and in dark mode, darkening or lightening the configured colour as little as needed.

/// The light page's background, and the text on the brand-coloured buttons.
const WHITE: [f64; 3] = [1.0, 1.0, 1.0];
/// The dark page's card background (`#1f2024`).
const DARK: [f64; 3] = [31.0 / 255.0, 32.0 / 255.0, 36.0 / 255.0];
/// WCAG AA for normal text.
const AA: f64 = 4.5;

/// `#rrggbb` (or `#rgb`) as sRGB components in 0..=1.
fn parse(hex: &str) -> Option<[f64; 3]> {
    let digits = hex.strip_prefix('#')?;
    let expanded: String = match digits.len() {
        3 => digits.chars().flat_map(|c| [c, c]).collect(),
        6 => digits.to_owned(),
        _ => return None,
    };
    let channel = |i: usize| {
        u8::from_str_radix(expanded.get(i..i + 2)?, 16).ok().map(|v| f64::from(v) / 255.0)
    };
    Some([channel(0)?, channel(2)?, channel(4)?])
}

fn hex([r, g, b]: [f64; 3]) -> String {
    // Components stay in 0..=1, so the rounded value fits a byte.
    let byte = |v: f64| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    format!("#{:02x}{:02x}{:02x}", byte(r), byte(g), byte(b))
}

fn luminance(rgb: [f64; 3]) -> f64 {
    let linear = |c: f64| if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) };
    0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2])
}

/// The WCAG contrast ratio of two colours.
fn contrast(a: [f64; 3], b: [f64; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

fn mix(a: [f64; 3], b: [f64; 3], t: f64) -> [f64; 3] {
    [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]
}

/// `colour` moved toward `toward` just enough to reach AA against `background`.
fn readable(colour: [f64; 3], background: [f64; 3], toward: [f64; 3]) -> [f64; 3] {
    (0..=20)
        .map(|step| mix(colour, toward, f64::from(step) / 20.0))
        .find(|candidate| contrast(*candidate, background) >= AA)
        .unwrap_or(toward)
}

/// `brand.css`: `:root { --brand: … }` for the configured colour (only a CSS colour is let
/// through).
pub(crate) fn brand_css(primary_color: &str) -> String {
    // A hex colour is adjusted for contrast in both colour schemes; anything else that is not
    // a hex colour falls back to the default blue, which passes.
    let (light, dark) = palette(primary_color.trim())
        .or_else(|| palette("#0b5fff"))
        .unwrap_or_else(|| ("#0b5fff".to_owned(), "#8fb3ff".to_owned()));
    format!(
        ":root {{ --brand: {light}; --brand-text: {light}; }}\n\
         @media (prefers-color-scheme: dark) {{ :root {{ --brand-text: {dark}; }} }}\n"
    )
}

/// The colours the page uses for a brand colour: for buttons and text on the light page
/// (darkened until white text on it, and it on white, reach AA), and for text on the dark page
/// (lightened until it reaches AA there). `None` when `colour` is not `#rgb`/`#rrggbb`.
pub(crate) fn palette(colour: &str) -> Option<(String, String)> {
    let rgb = parse(colour)?;
    let light = readable(rgb, WHITE, [0.0, 0.0, 0.0]);
    let dark_text = readable(rgb, DARK, WHITE);
    Some((hex(light), hex(dark_text)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn brand_colours_are_moved_only_as_far_as_aa_needs() {
        // Already dark enough: kept on the light page, lightened for the dark one.
        let (light, dark) = palette("#0b5fff").unwrap();
        assert_eq!(light, "#0b5fff");
        assert!(contrast(parse(&dark).unwrap(), DARK) >= AA);
        // A pale yellow would be unreadable on white: darkened until it is.
        let (light, _) = palette("#ffe066").unwrap();
        assert_ne!(light, "#ffe066");
        assert!(contrast(parse(&light).unwrap(), WHITE) >= AA);
        // Near-black disappears on the dark page: lightened there.
        let (_, dark) = palette("#111111").unwrap();
        assert!(contrast(parse(&dark).unwrap(), DARK) >= AA);
        assert_eq!(palette("#abc").map(|p| p.0.len()), Some(7));
        assert_eq!(palette("red"), None);
        assert_eq!(palette("#12345"), None);
        // WCAG's reference: black on white is 21:1.
        assert!((contrast([0.0; 3], WHITE) - 21.0).abs() < 0.01);
    }
}
